"""experiments.fgan_1d: the exact minimiser it compares against, and a short f-GAN fit."""

import math

import numpy as np

from experiments import fgan_1d


def test_the_exact_kl_fit_is_moment_matching():
    """argmin_Q KL(P || Q) over Gaussians matches P's mean and variance."""
    mean = sum(w * m for w, m in zip(fgan_1d.WEIGHTS, fgan_1d.MEANS, strict=True))
    var = fgan_1d.STD**2 + sum(w * m * m for w, m in zip(fgan_1d.WEIGHTS, fgan_1d.MEANS, strict=True)) - mean**2
    mu, sigma = fgan_1d.exact_fit('kl')
    assert abs(mu - mean) < 1e-4 and abs(sigma - math.sqrt(var)) < 1e-4


def test_the_quadrature_divergence_is_zero_only_at_p():
    assert fgan_1d.divergence('squared_hellinger', 0.4, 1.0) > 0.01
    # P itself is not a Gaussian, but its mixture components are far from Q here: KL grows.
    assert fgan_1d.divergence('kl', 3.0, 0.5) > fgan_1d.divergence('kl', 0.4, 1.04)


def test_a_short_fit_returns_finite_numbers():
    result = fgan_1d.measure('js', seed=0, steps=40)
    assert set(result) >= {'mu', 'sigma', 'mu_exact', 'sigma_exact', 'error', 'steps'}
    assert np.isfinite(result['error']) and result['sigma'] > 0
