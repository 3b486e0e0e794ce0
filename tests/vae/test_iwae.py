"""IWAE on a linear-Gaussian model: at least the ELBO, increasing in k, converging to log p(x)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests.vae.linear_gaussian import LinearGaussian
from zoo.vae.elbo import elbo
from zoo.vae.iwae import iwae_bound


@pytest.fixture(scope='module')
def problem():
    model = LinearGaussian()
    x = model.sample_x(3)
    mean, log_scale = model.posterior(x)
    # A shifted, too-wide proposal: a clear ELBO gap, but light-tailed importance weights.
    return model, x, mean + 0.5, log_scale + 0.3


def repeated_bounds(problem, k, repeats, chunk_size=None):
    model, x, mean, log_scale = problem
    fn = jax.jit(
        jax.vmap(
            lambda key: iwae_bound(
                key, jnp.asarray(mean), jnp.asarray(log_scale), model.log_likelihood_fn(x), k, chunk_size
            )
        )
    )
    return np.asarray(fn(jax.random.split(jax.random.PRNGKey(k), repeats)))


def test_bound_rises_with_k_from_the_elbo_to_log_marginal(problem):
    with jax.enable_x64(True):
        model, x, mean, log_scale = problem
        exact = model.log_marginal(x)
        elbos = jax.vmap(
            lambda key: elbo(key, jnp.asarray(mean), jnp.asarray(log_scale), model.log_likelihood_fn(x)).elbo
        )(jax.random.split(jax.random.PRNGKey(9), 4000))
        means, errors = [np.mean(elbos, 0)], [np.std(elbos, 0) / np.sqrt(4000)]
        for k in (1, 10, 100):
            bounds = repeated_bounds(problem, k, 400)
            means.append(bounds.mean(0))
            errors.append(bounds.std(0) / np.sqrt(400))
        means, errors = np.array(means), np.array(errors)
        # L_1 has the ELBO's expectation; then each k is higher, and all stay below log p(x).
        assert np.all(np.abs(means[1] - means[0]) < 5 * np.hypot(errors[0], errors[1]))
        assert np.all(np.diff(means[1:], axis=0) > 0)
        assert np.all(means < exact + 5 * errors)
        # k = 5000 in chunks of 250: unbiased for log p(x) within its own noise, and that
        # noise is a small fraction of the ELBO's gap.
        big = repeated_bounds(problem, 5000, 32, chunk_size=250)
        big_error = big.std(0) / np.sqrt(len(big))
        assert np.all(np.abs(big.mean(0) - exact) < 4 * big_error + 1e-3)
        assert np.all(4 * big_error < 0.1 * (exact - means[0]))


def test_bound_is_exact_with_the_true_posterior_and_has_gradients():
    with jax.enable_x64(True):
        model = LinearGaussian()
        x = model.sample_x(2)
        mean, log_scale = (jnp.asarray(a) for a in model.posterior(x))
        bound = iwae_bound(jax.random.PRNGKey(0), mean, log_scale, model.log_likelihood_fn(x), 12, 4)
        np.testing.assert_allclose(bound, model.log_marginal(x), rtol=1e-10)
        grad = jax.grad(
            lambda m: jnp.sum(iwae_bound(jax.random.PRNGKey(0), m, log_scale, model.log_likelihood_fn(x), 8, 2))
        )(mean + 0.3)
        assert np.all(np.isfinite(grad)) and np.any(grad != 0)


def test_chunk_size_must_divide_k():
    mean = jnp.zeros((2, 2))
    with pytest.raises(ValueError, match='must divide'):
        iwae_bound(jax.random.PRNGKey(0), mean, mean, lambda z: jnp.zeros(2), 10, 3)
    with pytest.raises(ValueError, match='>= 1'):
        iwae_bound(jax.random.PRNGKey(0), mean, mean, lambda z: jnp.zeros(2), 0)
