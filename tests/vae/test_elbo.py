"""The ELBO on a linear-Gaussian model: exact at the true posterior, its expectation in closed form."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests.vae.linear_gaussian import LinearGaussian
from zoo.distributions import kl_standard_normal
from zoo.vae.elbo import elbo, negative_elbo_loss


@pytest.fixture
def x64():
    with jax.enable_x64(True):
        yield


def test_elbo_expectation_is_log_marginal_at_the_exact_posterior(x64):
    model = LinearGaussian()
    x = model.sample_x(5)
    mean, log_scale = model.posterior(x)
    exact = model.expected_log_likelihood(x, mean, log_scale) - np.sum(
        np.asarray(kl_standard_normal(mean, log_scale)), axis=1
    )
    np.testing.assert_allclose(exact, model.log_marginal(x), rtol=1e-10)
    terms = elbo(jax.random.PRNGKey(0), jnp.asarray(mean), jnp.asarray(log_scale), model.log_likelihood_fn(x))
    np.testing.assert_allclose(terms.elbo, terms.log_likelihood - terms.kl, rtol=1e-12)


def test_elbo_expectation_matches_the_closed_form_and_is_below_log_marginal(x64):
    model = LinearGaussian()
    x = model.sample_x(3)
    mean, log_scale = model.posterior(x)
    mean, log_scale = mean + 0.4, log_scale + 0.3  # a wrong posterior leaves a gap
    fn = jax.jit(
        jax.vmap(lambda k: elbo(k, jnp.asarray(mean), jnp.asarray(log_scale), model.log_likelihood_fn(x)).elbo)
    )
    samples = np.asarray(fn(jax.random.split(jax.random.PRNGKey(1), 20_000)))
    exact = model.expected_log_likelihood(x, mean, log_scale) - np.sum(
        np.asarray(kl_standard_normal(mean, log_scale)), axis=1
    )
    standard_error = samples.std(axis=0) / np.sqrt(len(samples))
    assert np.all(np.abs(samples.mean(axis=0) - exact) < 5 * standard_error)
    assert np.all(exact < model.log_marginal(x))


def test_loss_metrics_and_gradients():
    model = LinearGaussian()
    x = model.sample_x(4).astype(np.float32)
    mean, log_scale = (jnp.asarray(a, jnp.float32) for a in model.posterior(x))
    loss_fn = lambda m: negative_elbo_loss(jax.random.PRNGKey(0), m, log_scale, model.log_likelihood_fn(x))
    (loss, metrics), grad = jax.value_and_grad(loss_fn, has_aux=True)(mean)
    np.testing.assert_allclose(loss, metrics['reconstruction'] + metrics['kl'], rtol=1e-5)
    assert grad.shape == mean.shape and np.all(np.isfinite(grad))
    np.testing.assert_allclose(jax.jit(loss_fn)(mean)[0], loss, rtol=1e-5)
