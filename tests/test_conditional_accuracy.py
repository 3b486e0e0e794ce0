"""The conditional-accuracy rule: per-class shares, their mean, and one clear error."""

import numpy as np
import pytest

from zoo.conditional_accuracy import conditional_accuracy, score_generator


def test_per_class_shares_and_mean():
    requested = np.array([0, 0, 1, 1, 1, 1])
    predicted = np.array([0, 1, 1, 1, 0, 1])
    result = conditional_accuracy(predicted, requested, 3)
    assert result['per_class'][:2] == [0.5, 0.75]
    assert np.isnan(result['per_class'][2])  # never requested: no share, left out of the mean
    assert result['mean'] == pytest.approx(0.625)


def test_perfect_generator_scores_one_and_bad_shapes_raise():
    class Oracle:  # "classifies" an image by its constant pixel value
        def predict(self, pixels):
            return pixels.reshape(len(pixels), -1)[:, 0]

    sample = lambda labels: np.broadcast_to(labels[:, None, None, None], (len(labels), 2, 2, 1))
    assert score_generator(Oracle(), sample, 4, 3)['mean'] == 1.0
    with pytest.raises(ValueError, match='one shape'):
        conditional_accuracy(np.zeros(3), np.zeros(4), 2)
