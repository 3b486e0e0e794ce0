"""zoo.distributions: priors against scipy, temperature sampling; KLs and likelihoods against closed
forms and quadrature in float64."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate, stats

from zoo import distributions as D


@pytest.fixture
def x64():
    with jax.enable_x64(True):
        yield


def test_kl_diagonal_gaussians_matches_quadrature(x64):
    mq, sq, mp, sp = 0.3, 0.7, -0.5, 1.6
    kl = D.kl_diagonal_gaussians(jnp.array(mq), jnp.log(sq), jnp.array(mp), jnp.log(sp))
    integrand = lambda x: stats.norm.pdf(x, mq, sq) * (stats.norm.logpdf(x, mq, sq) - stats.norm.logpdf(x, mp, sp))
    exact, _ = integrate.quad(integrand, -20, 20)
    np.testing.assert_allclose(kl, exact, rtol=1e-9)


def test_kl_standard_normal_is_the_special_case_and_zero_at_the_prior(x64):
    mean, log_scale = jnp.array([0.0, 1.2, -0.4]), jnp.array([0.0, -0.3, 0.8])
    np.testing.assert_allclose(
        D.kl_standard_normal(mean, log_scale), D.kl_diagonal_gaussians(mean, log_scale, 0.0, 0.0), rtol=1e-12
    )
    assert D.kl_standard_normal(mean, log_scale)[0] == 0.0


def test_reparameterised_sample_has_the_moments_and_the_gradient():
    n = 200_000
    mean, log_scale = jnp.full((n,), 1.5), jnp.full((n,), jnp.log(0.5))
    z = D.sample_diagonal_gaussian(jax.random.PRNGKey(0), mean, log_scale)
    tolerance = 5 * 0.5 / np.sqrt(n)  # five standard errors of the sample mean
    assert abs(float(jnp.mean(z)) - 1.5) < tolerance
    assert abs(float(jnp.std(z)) - 0.5) < 5 * 0.5 / np.sqrt(2 * n)
    grad = jax.grad(lambda m: jnp.sum(D.sample_diagonal_gaussian(jax.random.PRNGKey(1), m, jnp.zeros(3))))(jnp.zeros(3))
    np.testing.assert_allclose(grad, 1.0)


def test_bernoulli_log_prob_is_log_sigmoid_and_stable(x64):
    logits = jnp.array([-3.0, 0.0, 2.5])
    p = 1 / (1 + np.exp(-np.asarray(logits)))
    np.testing.assert_allclose(D.bernoulli_log_prob(1.0, logits), np.log(p), rtol=1e-12)
    np.testing.assert_allclose(D.bernoulli_log_prob(0.0, logits), np.log1p(-p), rtol=1e-12)
    extreme = D.bernoulli_log_prob(jnp.array([1.0, 0.0]), jnp.array([-200.0, 200.0]))
    np.testing.assert_allclose(extreme, [-200.0, -200.0])


def test_gaussian_fixed_scale_is_the_normal_density(x64):
    x, mean = jnp.array([0.2, -1.0, 3.0]), jnp.array([0.0, 0.5, 2.0])
    np.testing.assert_allclose(
        D.gaussian_fixed_scale_log_prob(x, mean, 0.3), stats.norm.logpdf(x, mean, 0.3), rtol=1e-12
    )


@pytest.mark.parametrize('num_levels', [2, 17, 256])
def test_discretized_logistic_sums_to_one_and_is_the_cdf_difference(x64, num_levels):
    pixels = jnp.arange(num_levels)
    loc, log_scale = 0.23, jnp.log(0.4)
    log_p = D.discretized_logistic_log_prob(pixels, loc, log_scale, num_levels)
    np.testing.assert_allclose(jax.nn.logsumexp(log_p), 0.0, atol=1e-10)
    x = 2 * np.arange(num_levels) / (num_levels - 1) - 1
    h = 1 / (num_levels - 1)
    cdf = lambda t: stats.logistic.cdf(t, loc, 0.4)
    expected = cdf(x + h) - cdf(x - h)
    expected[0], expected[-1] = cdf(x[0] + h), 1 - cdf(x[-1] - h)
    np.testing.assert_allclose(np.exp(log_p), expected, rtol=1e-8, atol=1e-300)


def test_discretized_logistic_is_finite_far_in_the_tails_and_rejects_floats():
    log_p = D.discretized_logistic_log_prob(jnp.array([0, 128, 255]), 50.0, -3.0, 256)
    assert np.all(np.isfinite(log_p))
    grad = jax.grad(lambda m: jnp.sum(D.discretized_logistic_log_prob(jnp.array([0, 128, 255]), m, -3.0)))(50.0)
    assert np.isfinite(grad)
    with pytest.raises(TypeError, match='pixels must be integers'):
        D.discretized_logistic_log_prob(jnp.array([0.5]), 0.0, 0.0)


X = np.linspace(-4, 4, 17)


def test_log_densities_match_scipy():
    np.testing.assert_allclose(D.gaussian_log_prob(X, 0.5, np.log(2.0)), stats.norm(0.5, 2.0).logpdf(X), rtol=1e-5)
    np.testing.assert_allclose(
        D.logistic_log_prob(X, -0.3, np.log(0.7)), stats.logistic(-0.3, 0.7).logpdf(X), rtol=1e-5
    )


@pytest.mark.parametrize('name, dist', [('gaussian', stats.norm), ('logistic', stats.logistic)])
def test_samples_scale_with_temperature(name, dist):
    log_prob, sample = D.get_prior(name)
    x = sample(jax.random.key(0), (200_000,), 0.5)
    np.testing.assert_allclose(float(jnp.std(x)), 0.5 * dist().std(), rtol=0.01)
    np.testing.assert_array_equal(sample(jax.random.key(0), (3,), 0.0), 0.0)
    np.testing.assert_allclose(log_prob(jnp.zeros(1)), dist().logpdf(0.0), rtol=1e-6)


def test_sum_except_batch_and_unknown_prior():
    np.testing.assert_allclose(D.sum_except_batch(jnp.ones((2, 3, 4))), [12.0, 12.0])
    with pytest.raises(ValueError, match="unknown prior 'cauchy'"):
        D.get_prior('cauchy')
