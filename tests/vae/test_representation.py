"""Nearest-neighbour retrieval and linear-probe accuracy on hand-made features."""

import numpy as np
import pytest

from zoo.vae.representation import (
    cross_validated_probe_accuracy,
    linear_probe_accuracy,
    nearest_neighbour_accuracy,
    participation_ratio,
)


def test_nearest_neighbour_hand_worked():
    # Two rays, labels by ray: (1,0),(10,1) and (0,1),(1,10).  Cosine pairs each point with the
    # other on its ray: all right.  L2 pairs the two points near the origin with each other
    # (wrong) and each far point with the near point of its own ray (right): 2 of 4.
    features = np.array([[1.0, 0.0], [10.0, 1.0], [0.0, 1.0], [1.0, 10.0]])
    labels = np.array([0, 0, 1, 1])
    assert nearest_neighbour_accuracy(features, labels, 'cosine') == 1.0
    assert nearest_neighbour_accuracy(features, labels, 'l2') == 0.5
    # On a line, 1-D: 0 -> 1 (wrong), 1 -> 0 (wrong), 3 -> 1 (right), 10 -> 3 (wrong).
    assert nearest_neighbour_accuracy([[0.0], [1.0], [3.0], [10.0]], [0, 1, 1, 0], 'l2') == 0.25


def test_probe_on_separable_features_is_perfect():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 300)
    features = np.eye(3)[labels] * 5 + 0.1 * rng.normal(size=(300, 3))
    assert linear_probe_accuracy(features[:200], labels[:200], features[200:], labels[200:]) == 1.0
    assert cross_validated_probe_accuracy(features, labels) == 1.0
    noise = rng.normal(size=(300, 3))
    assert cross_validated_probe_accuracy(noise, labels) < 0.6


def test_bad_input_is_named():
    with pytest.raises(ValueError, match='unknown metric'):
        nearest_neighbour_accuracy(np.zeros((3, 2)), np.zeros(3), 'manhattan')
    with pytest.raises(ValueError, match='at least two'):
        nearest_neighbour_accuracy(np.zeros((1, 2)), np.zeros(1))


def test_participation_ratio_counts_the_directions_holding_the_variance():
    rng = np.random.default_rng(0)
    isotropic = rng.normal(size=(20_000, 6))
    assert abs(participation_ratio(isotropic) - 6) < 0.1
    one_direction = rng.normal(size=(500, 1)) * rng.normal(size=(1, 6))  # rank one
    np.testing.assert_allclose(participation_ratio(one_direction), 1.0, rtol=1e-6)
    stretched = isotropic * np.array([10.0, 1, 1, 1, 1, 1])  # one direction dominates
    assert 1.0 < participation_ratio(stretched) < 1.2
    with pytest.raises(ValueError, match='features of shape'):
        participation_ratio(np.ones(5))
