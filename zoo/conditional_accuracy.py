"""Conditional accuracy: the one rule that scores every class-conditional generator.

An offline classifier trained on the real training split (``zoo.sample_quality.SampleClassifier``)
labels each sample generated for a requested class y_i; the conditional accuracy is

    acc = 1/n sum_i [classifier(x_i) == y_i],   x_i ~ p_model(x | y_i),

reported per class and as the mean over classes.  The same classifier on real test images
(x_i, y_i) gives the ceiling.  Mirrors the "classification accuracy score" idea of
Ravuri & Vinyals 2019 the other way round (classifier trained on real, tested on generated).
"""

import numpy as np


def conditional_accuracy(predicted, requested, num_classes: int) -> dict:
    """{'mean': mean over classes of the per-class share, 'per_class': [share of class k]}.

    ``predicted`` and ``requested`` are int arrays (n,); a class never requested has no share
    (NaN) and is left out of the mean.
    """
    predicted, requested = np.asarray(predicted), np.asarray(requested)
    if predicted.shape != requested.shape or predicted.ndim != 1:
        raise ValueError(f'expected two label vectors of one shape, got {predicted.shape} and {requested.shape}')
    per_class = [
        float(np.mean(predicted[requested == k] == k)) if np.any(requested == k) else float('nan')
        for k in range(num_classes)
    ]
    return {'mean': float(np.nanmean(per_class)), 'per_class': per_class}


def score_generator(classifier, sample_fn, num_classes: int, per_class: int, rng_seed: int = 0) -> dict:
    """Conditional accuracy of ``sample_fn(labels) -> uint8 pixels`` with ``per_class`` samples a class."""
    requested = np.repeat(np.arange(num_classes), per_class)
    pixels = np.asarray(sample_fn(requested))
    return conditional_accuracy(classifier.predict(pixels), requested, num_classes)
