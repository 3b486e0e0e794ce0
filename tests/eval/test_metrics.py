"""Known answers for zoo.eval.metrics."""

import os

import numpy as np
import pytest
import scipy.linalg

from zoo.eval import metrics

FIXTURE = os.path.join(os.path.dirname(__file__), 'fid_fixture.npz')


def test_frechet_distance_matches_pytorch_fid():
    with np.load(FIXTURE) as f:
        value = metrics.frechet_distance(f['fd_mu_a'], f['fd_sigma_a'], f['fd_mu_b'], f['fd_sigma_b'])
        expected = float(f['fd_value'])
    assert value == pytest.approx(expected, rel=1e-6)


def test_frechet_distance_matches_scipy_sqrtm():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(300, 8)) @ rng.normal(size=(8, 8)), rng.normal(size=(300, 8)) + 0.5
    (mu1, s1), (mu2, s2) = metrics.gaussian_stats(a), metrics.gaussian_stats(b)
    reference = np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * np.real(scipy.linalg.sqrtm(s1 @ s2)))
    assert metrics.frechet_distance(mu1, s1, mu2, s2) == pytest.approx(reference, rel=1e-9)


def test_frechet_distance_of_two_gaussians_is_closed_form():
    # Commuting (diagonal) covariances: d^2 = |m1 - m2|^2 + sum (sqrt a - sqrt b)^2.
    m1, m2, a, b = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, -1.0]), np.array([1.0, 4.0, 9.0]), np.ones(3)
    expected = 1.0 + 9.0 + (0.0 + 1.0 + 4.0)
    assert metrics.frechet_distance(m1, np.diag(a), m2, np.diag(b)) == pytest.approx(expected, rel=1e-12)
    # A rotation of both leaves the distance unchanged (non-diagonal covariances).
    q, _ = np.linalg.qr(np.random.default_rng(1).normal(size=(3, 3)))
    rotated = metrics.frechet_distance(q @ m1, q @ np.diag(a) @ q.T, q @ m2, q @ np.diag(b) @ q.T)
    assert rotated == pytest.approx(expected, rel=1e-9)


def test_frechet_distance_of_identical_sets_is_zero_even_when_singular():
    features = np.random.default_rng(2).normal(size=(20, 50))  # fewer samples than dimensions
    # Rank-deficient S: its ~30 zero eigenvalues come out as +-1e-16 |S| and their square
    # roots as ~1e-7 each, so the zero is exact only to about 1e-6 of the trace.
    scale = np.trace(np.cov(features, rowvar=False))
    assert abs(metrics.frechet_distance_of_features(features, features)) < 1e-6 * scale


def test_frechet_distance_rejects_mismatched_statistics():
    with pytest.raises(ValueError, match='mismatched'):
        metrics.frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))


def test_inception_score_bounds():
    k = 10
    confident = np.eye(k)[np.arange(1000) % k]
    assert metrics.inception_score(confident)[0] == pytest.approx(k, rel=1e-6)
    assert metrics.inception_score(np.full((1000, k), 1.0 / k))[0] == pytest.approx(1.0, abs=1e-9)
    collapsed = np.eye(k)[np.zeros(1000, int)]
    assert metrics.inception_score(collapsed)[0] == pytest.approx(1.0, abs=1e-6)


def blobs(classes, n, rng, spread=0.1):
    """n 2-D points from equal Gaussian blobs centred on a circle of radius 5, one per class of 10."""
    labels = rng.choice(np.asarray(classes), n)
    angles = 2 * np.pi * labels / 10
    return 5.0 * np.stack([np.cos(angles), np.sin(angles)], 1) + spread * rng.normal(size=(n, 2))


def test_identical_sets_have_full_precision_recall_coverage():
    x = blobs(range(10), 500, np.random.default_rng(3))
    assert metrics.precision_recall(x, x) == {'precision': 1.0, 'recall': 1.0}
    dc = metrics.density_coverage(x, x)
    assert dc['coverage'] == 1.0 and dc['density'] >= 1.0


def test_disjoint_sets_have_zero_precision_recall():
    rng = np.random.default_rng(4)
    real, fake = blobs(range(5), 300, rng), blobs(range(5, 10), 300, rng)
    assert metrics.precision_recall(real, fake) == {'precision': 0.0, 'recall': 0.0}
    assert metrics.density_coverage(real, fake) == {'density': 0.0, 'coverage': 0.0}


def test_dropping_half_the_modes_costs_recall_not_precision():
    rng = np.random.default_rng(5)
    real, fake = blobs(range(10), 1000, rng), blobs(range(5), 1000, rng)
    pr, dc = metrics.precision_recall(real, fake), metrics.density_coverage(real, fake)
    assert pr['precision'] > 0.9
    assert 0.35 < pr['recall'] < 0.6
    assert dc['density'] > 0.7 and 0.35 < dc['coverage'] < 0.6


def test_knn_radii_need_more_points_than_k():
    with pytest.raises(ValueError, match='more than k=3'):
        metrics.knn_radii(np.zeros((3, 2)), 3)
