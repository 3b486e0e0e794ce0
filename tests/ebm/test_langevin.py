"""Langevin and MALA sample known energies with the right moments; MALA's acceptance behaves."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from zoo.ebm.langevin import energy_grad, langevin_chain, mala_chain, mala_log_proposal

NUM_CHAINS = 4000


def gaussian_energy(mean, std):
    """U(x) = |x - mu|^2 / (2 s^2): q = N(mu, s^2 I)."""
    return lambda x: jnp.sum(jnp.square(x - mean), axis=-1) / (2.0 * std**2)


# A two-component 2-D mixture close enough for chains to cross between modes.
WEIGHTS = np.array([0.3, 0.7])
MEANS = np.array([[-1.0, 0.5], [1.0, -0.5]])
STD = 0.7


def mixture_energy(x):
    """U(x) = -log sum_k w_k N(x; m_k, s^2 I) (constant dropped)."""
    sq = jnp.sum(jnp.square(x[:, None, :] - MEANS), axis=-1)
    return -jax.nn.logsumexp(jnp.log(WEIGHTS) - sq / (2 * STD**2), axis=1)


def mixture_moments():
    """Exact mean and covariance: sum w_k m_k and sum w_k (s^2 I + m_k m_k^T) - mean mean^T."""
    mean = WEIGHTS @ MEANS
    second = sum(w * (STD**2 * np.eye(2) + np.outer(m, m)) for w, m in zip(WEIGHTS, MEANS))
    return mean, second - np.outer(mean, mean)


def assert_moments(x, mean, cov, var_bias=0.0, z=5.0):
    """Sample mean and covariance within z standard errors (plus a known bias) of the truth.

    Standard errors of independent chains: sqrt(C_ii / N) for the mean and
    sqrt((C_ii C_jj + C_ij^2) / N) for the covariance entry (i, j) (Gaussian fourth moments;
    the mixture's are close, and z = 5 leaves room).
    """
    x = np.asarray(x, np.float64)
    n = x.shape[0]
    se_mean = np.sqrt(np.diag(cov) / n)
    np.testing.assert_array_less(np.abs(x.mean(0) - mean), z * se_mean)
    se_cov = np.sqrt((np.outer(np.diag(cov), np.diag(cov)) + cov**2) / n)
    np.testing.assert_array_less(np.abs(np.cov(x.T) - cov), z * se_cov + var_bias * np.abs(cov))


def test_energy_grad_is_per_example_gradient():
    energy = gaussian_energy(jnp.array([1.0, -2.0]), 0.5)
    x = jax.random.normal(jax.random.PRNGKey(0), (5, 2))
    u, g = energy_grad(energy, x)
    np.testing.assert_allclose(u, energy(x), rtol=1e-6)
    np.testing.assert_allclose(g, (x - jnp.array([1.0, -2.0])) / 0.25, rtol=1e-5)


def test_langevin_on_gaussian_has_its_exact_discretised_variance():
    """ULA on N(mu, s^2) is a Gaussian AR(1) chain with stationary variance s^2 / (1 - eps / (4 s^2))."""
    mean, std, eps = jnp.array([1.0, -2.0, 0.5]), 0.8, 0.2
    x0 = jax.random.uniform(jax.random.PRNGKey(1), (NUM_CHAINS, 3), minval=-4, maxval=4)
    x = jax.jit(langevin_chain, static_argnums=(0, 3))(gaussian_energy(mean, std), x0, jax.random.PRNGKey(2), 200, eps)
    variance = std**2 / (1 - eps / (4 * std**2))
    assert_moments(x, np.asarray(mean), variance * np.eye(3))
    # ... and not the target's own variance, which it would miss by more than the noise.
    assert abs(np.var(np.asarray(x)) / std**2 - 1) > 0.05


def test_langevin_on_mixture_with_small_steps():
    """Bias of ULA is O(eps): eps / (4 s^2) relative on each Gaussian piece."""
    eps = 0.01
    x0 = jax.random.uniform(jax.random.PRNGKey(3), (NUM_CHAINS, 2), minval=-3, maxval=3)
    x = jax.jit(langevin_chain, static_argnums=(0, 3))(mixture_energy, x0, jax.random.PRNGKey(4), 1500, eps)
    mean, cov = mixture_moments()
    assert_moments(x, mean, cov, var_bias=eps / (4 * STD**2))


@pytest.mark.parametrize('target', ['gaussian', 'mixture'])
def test_mala_samples_the_exact_target(target):
    if target == 'gaussian':
        mu, std = jnp.array([0.5, -1.0]), 1.5
        energy, mean, cov, eps = gaussian_energy(mu, std), np.asarray(mu), std**2 * np.eye(2), 1.0
    else:
        (mean, cov), energy, eps = mixture_moments(), mixture_energy, 0.3
    x0 = jax.random.uniform(jax.random.PRNGKey(5), (NUM_CHAINS, 2), minval=-3, maxval=3)
    x, rate = jax.jit(mala_chain, static_argnums=(0, 3))(energy, x0, jax.random.PRNGKey(6), 400, eps)
    assert 0.3 < float(rate) < 1.0
    assert_moments(x, mean, cov)  # no discretisation bias, even with a large step


def test_mala_acceptance_falls_as_the_step_grows():
    energy = gaussian_energy(jnp.zeros(10), 1.0)
    x0 = jax.random.normal(jax.random.PRNGKey(7), (1000, 10))
    chain = jax.jit(mala_chain, static_argnums=(0, 3))
    rates = [float(chain(energy, x0, jax.random.PRNGKey(8), 50, eps)[1]) for eps in (0.01, 0.1, 0.5, 1.0, 2.0)]
    assert all(a > b for a, b in zip(rates, rates[1:])), rates
    assert rates[0] > 0.95 and rates[-1] < 0.3, rates


def test_mala_log_proposal_is_the_gaussian_log_density():
    x, y = jax.random.normal(jax.random.PRNGKey(9), (2, 3, 4))
    g = jnp.arange(12.0).reshape(3, 4) / 10
    eps = 0.3
    mean = x - 0.5 * eps * g
    exact = jax.scipy.stats.norm.logpdf(y, mean, jnp.sqrt(eps)).sum(1) + 0.5 * 4 * jnp.log(2 * jnp.pi * eps)
    np.testing.assert_allclose(mala_log_proposal(y, x, g, eps), exact, rtol=1e-5, atol=1e-5)


def test_chains_work_under_vmap_and_grad_and_keep_shapes():
    energy = gaussian_energy(jnp.zeros(4), 1.0)
    x0 = jnp.ones((3, 2, 2, 1))
    flat = lambda x: energy(x.reshape(x.shape[0], -1))
    x = langevin_chain(flat, x0, jax.random.PRNGKey(0), 3, 0.1, noise_scale=0.01, bounds=(0.0, 1.0))
    assert x.shape == x0.shape and float(x.min()) >= 0 and float(x.max()) <= 1
    batched = jax.vmap(functools.partial(mala_chain, flat, num_steps=3, step_size=0.1))(
        jnp.stack([x0, x0]), jax.random.split(jax.random.PRNGKey(1), 2)
    )
    assert batched[0].shape == (2,) + x0.shape and batched[1].shape == (2,)
    # Samples are constants to the loss (the chain is stop-gradiented), so a gradient
    # through the chain's start is zero rather than an error.
    grad = jax.grad(lambda x: jnp.sum(langevin_chain(flat, x, jax.random.PRNGKey(0), 2, 0.1)))(x0)
    assert float(jnp.abs(grad).sum()) == 0.0


def test_bad_step_size_is_an_error():
    with pytest.raises(ValueError, match='step_size must be > 0'):
        langevin_chain(gaussian_energy(0.0, 1.0), jnp.zeros((2, 1)), jax.random.PRNGKey(0), 3, 0.0)
    with pytest.raises(ValueError, match='step_size must be > 0'):
        mala_chain(gaussian_energy(0.0, 1.0), jnp.zeros((2, 1)), jax.random.PRNGKey(0), 3, -1.0)
