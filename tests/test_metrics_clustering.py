"""zoo.metrics: Hungarian clustering accuracy and the majority-vote accuracy of Su Jianlin's clustering-VAE article."""

import numpy as np
import pytest

from zoo.metrics import clustering_accuracy, majority_vote_accuracy


def test_a_permuted_labelling_is_perfect():
    labels = np.random.default_rng(0).integers(0, 10, 500)
    permutation = np.random.default_rng(1).permutation(10)
    assert clustering_accuracy(labels, permutation[labels]) == 1.0
    assert majority_vote_accuracy(labels, permutation[labels]) == 1.0


def test_hand_worked_case():
    # Cluster 0 holds classes (0, 0, 1), cluster 1 holds (1, 1, 0), cluster 2 holds (1,).
    # Best one-to-one map: 0->0, 1->1 (cluster 2 unmatched): (2 + 2) / 7.
    # Majority vote: 0->0, 1->1, 2->1: (2 + 2 + 1) / 7.
    labels = np.array([0, 0, 1, 1, 1, 0, 1])
    clusters = np.array([0, 0, 0, 1, 1, 1, 2])
    assert clustering_accuracy(labels, clusters) == pytest.approx(4 / 7)
    assert majority_vote_accuracy(labels, clusters) == pytest.approx(5 / 7)


def test_hungarian_beats_greedy_matching():
    # Greedy would give cluster 0 to class 0 (3 hits) and then cluster 1 to class 1 (0 hits);
    # the optimum maps 0->1 (2) and 1->0 (2).
    labels = np.array([0, 0, 0, 1, 1, 0, 0])
    clusters = np.array([0, 0, 0, 0, 0, 1, 1])
    assert clustering_accuracy(labels, clusters) == pytest.approx(4 / 7)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match='same length'):
        clustering_accuracy([0, 1], [0])
    with pytest.raises(ValueError, match='empty'):
        majority_vote_accuracy([], [])
