"""Evaluation metrics."""

import math

import jax.numpy as jnp
import numpy as np


def bits_per_dim(log_prob: jnp.ndarray, num_dims: int, num_levels: int = 256) -> jnp.ndarray:
    """bpd = (-log p(x) + D log L) / (D log 2).

    ``log_prob`` is the continuous log-density (nats) of dequantised data
    x = (p + u)/L - 1/2; the D log L term turns it into a bound on the discrete
    log-likelihood of the L-level pixels (Theis, van den Oord & Bethge 2016, "A note on the evaluation of
    generative models", sec. 3.1).
    """
    return (-log_prob + num_dims * math.log(num_levels)) / (num_dims * math.log(2.0))


def _contingency(labels, clusters) -> np.ndarray:
    """counts[c, y]: how many examples of class y fell into cluster c."""
    labels, clusters = np.asarray(labels).ravel(), np.asarray(clusters).ravel()
    if labels.shape != clusters.shape:
        raise ValueError(f'labels and clusters must have the same length, got {labels.shape} and {clusters.shape}')
    if labels.size == 0:
        raise ValueError('clustering accuracy of an empty set is undefined')
    if labels.min() < 0 or clusters.min() < 0:
        raise ValueError('labels and clusters must be non-negative integers')
    counts = np.zeros((int(clusters.max()) + 1, int(labels.max()) + 1), np.int64)
    np.add.at(counts, (clusters, labels), 1)
    return counts


def clustering_accuracy(labels, clusters) -> float:
    """max over one-to-one maps m from clusters to classes of mean(m(cluster) == label).

    The usual unsupervised clustering accuracy (e.g. VaDE, Jiang et al. 2017): the best
    matching is an assignment problem on the cluster-by-class contingency table, solved
    by the Hungarian algorithm (``scipy.optimize.linear_sum_assignment``).  With more
    clusters than classes the unmatched clusters count as wrong.
    """
    from scipy.optimize import linear_sum_assignment

    counts = _contingency(labels, clusters)
    rows, cols = linear_sum_assignment(counts, maximize=True)
    return float(counts[rows, cols].sum() / counts.sum())


def majority_vote_accuracy(labels, clusters) -> float:
    """Each cluster predicts its most frequent class; the fraction predicted right.

    The measure of Su Jianlin's one-step clustering VAE article (2018): several clusters may map
    to one class, so it is at least ``clustering_accuracy`` and reaches 1 with one cluster per example.
    """
    counts = _contingency(labels, clusters)
    return float(counts.max(axis=1).sum() / counts.sum())
