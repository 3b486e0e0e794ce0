"""Log-det estimators against slogdet of the dense Jacobian (float64), unbiasedness by averaging."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from zoo.linalg import log1p_series
from zoo.residual import logdet as ld

D = 4


@pytest.fixture(scope='module')
def problem():
    """A contractive g(x) = B tanh(A x) (Lip <= |A| |B| = 0.7) on a few points, in float64."""
    with jax.enable_x64(True):
        a = jax.random.normal(jax.random.key(0), (D, D), jnp.float64)
        b = jax.random.normal(jax.random.key(1), (D, D), jnp.float64)
        a = a / np.linalg.norm(np.asarray(a), 2)
        b = 0.7 * b / np.linalg.norm(np.asarray(b), 2)
        x = jax.random.normal(jax.random.key(2), (3, D), jnp.float64)
        params = {'a': a, 'b': b}
        g = lambda p, x: jnp.tanh(x @ p['a'].T) @ p['b'].T
        jac = jax.jit(jax.vmap(jax.jacfwd(lambda xi: g(params, xi[None])[0])))(x)
        exact = np.array([np.linalg.slogdet(np.eye(D) + j)[1] for j in np.asarray(jac)])
        yield params, g, x, jac, exact


def _mean_within(samples, target, z=4.5):
    """|mean - target| within z standard errors (per column)."""
    samples = np.asarray(samples)
    se = samples.std(axis=0, ddof=1) / np.sqrt(samples.shape[0])
    np.testing.assert_array_less(np.abs(samples.mean(axis=0) - target), z * se + 1e-12)


def test_exact_log_det_matches_slogdet(problem):
    params, g, x, _, exact = problem
    with jax.enable_x64(True):
        gx, value = ld.exact_log_det(lambda z: g(params, z), x)
        np.testing.assert_allclose(value, exact, rtol=1e-12)
        np.testing.assert_allclose(gx, g(params, x))


def test_exact_log_det_in_2d_is_the_written_out_determinant():
    # D = 2 takes its own branch; a Jacobian with off-diagonal terms and a log-det far from 0.
    with jax.enable_x64(True):
        a = jnp.array([[0.9, -0.3], [0.4, 0.2]])
        g = lambda x: 0.95 * jnp.tanh(x @ a.T) @ jnp.array([[0.6, 0.7], [-0.7, 0.6]]).T
        x = jax.random.normal(jax.random.key(4), (5, 2), jnp.float64)
        jac = jax.jit(jax.vmap(jax.jacfwd(lambda xi: g(xi[None])[0])))(x)
        exact = np.array([np.linalg.slogdet(np.eye(2) + j)[1] for j in np.asarray(jac)])
        np.testing.assert_allclose(jax.jit(ld.exact_log_det, static_argnums=0)(g, x)[1], exact, rtol=1e-12)
        grad = jax.jit(jax.grad(lambda x: jnp.sum(ld.exact_log_det(g, x)[1])))(x)
        reference = jax.jit(
            jax.grad(
                lambda x: jnp.sum(
                    jnp.linalg.slogdet(jnp.eye(2) + jax.vmap(jax.jacfwd(lambda xi: g(xi[None])[0]))(x))[1]
                )
            )
        )(x)
        np.testing.assert_allclose(grad, reference, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize('noise', ['gaussian', 'rademacher'])
def test_power_series_averages_to_the_truncated_series(problem, noise):
    params, g, x, jac, exact = problem
    n = 3
    truncated = np.array([np.trace(log1p_series(j, n)) for j in jac])
    with jax.enable_x64(True):
        keys = jax.random.split(jax.random.key(3), 4000)
        est = jax.jit(jax.vmap(lambda k: ld.power_series_log_det(lambda z: g(params, z), x, k, n, noise)[1]))(keys)
    _mean_within(est, truncated)
    # and the truncation error is below the geometric tail bound D L^(n+1) / ((n+1)(1-L))
    assert np.all(np.abs(truncated - exact) <= D * 0.7 ** (n + 1) / ((n + 1) * 0.3))


def test_russian_roulette_is_unbiased_for_the_exact_log_det(problem):
    params, g, x, _, exact = problem
    with jax.enable_x64(True):
        keys = jax.random.split(jax.random.key(4), 4000)
        est = jax.jit(jax.vmap(lambda k: ld.russian_roulette_log_det(lambda z: g(params, z), x, k)[1]))(keys)
    _mean_within(est, exact)
    # the one-term series tr(J) is visibly biased on this problem: the check has power
    truncated = np.array([np.trace(log1p_series(j, 1)) for j in np.asarray(problem[3])])
    assert np.max(np.abs(truncated - exact)) > 5 * np.max(np.asarray(est).std(0) / np.sqrt(4000))


def test_neumann_gradient_is_unbiased_and_values_agree(problem):
    params, g, x, _, exact = problem
    with jax.enable_x64(True):

        def exact_total(p):
            return jnp.sum(ld.exact_log_det(lambda z: g(p, z), x)[1])

        @functools.partial(jax.jit, static_argnums=2)
        def estimate(p, key, gradient):
            return jnp.sum(ld.russian_roulette_log_det(lambda z: g(p, z), x, key, gradient=gradient)[1])

        target = jax.jit(jax.grad(exact_total))(params)
        keys = jax.random.split(jax.random.key(5), 3000)
        grads = jax.jit(jax.vmap(jax.grad(lambda p, k: estimate(p, k, 'neumann')), (None, 0)))(params, keys)
        for name in params:
            _mean_within(np.asarray(grads[name]).reshape(len(keys), -1), np.asarray(target[name]).ravel())
        key = jax.random.key(6)
        np.testing.assert_allclose(estimate(params, key, 'neumann'), estimate(params, key, 'backprop'), rtol=1e-12)
        # the gradient with respect to the input flows too (stacked blocks need it)
        gx = jax.jit(jax.grad(lambda z: jnp.sum(ld.russian_roulette_log_det(lambda y: g(params, y), z, key)[1])))(x)
        assert np.all(np.isfinite(gx)) and np.any(gx != 0)


def test_roulette_weights_and_num_terms():
    w = ld.roulette_weights(6, 2, 0.5)
    np.testing.assert_allclose(w, [1, 1, 2, 4, 8, 16])
    n = jax.vmap(lambda k: ld.sample_num_terms(k, 2, 0.5, 30))(jax.random.split(jax.random.key(7), 20000))
    assert int(n.min()) == 2
    # E[N] = n_exact + (1 - p) / p = 3; sd of N is sqrt(1 - p) / p = 1.41
    assert abs(float(n.mean()) - 3.0) < 4.5 * 1.42 / np.sqrt(20000)


def test_bad_settings_are_named():
    g = lambda x: 0.5 * x
    x = jnp.ones((2, 3))
    with pytest.raises(ValueError, match='Hutchinson noise'):
        ld.power_series_log_det(g, x, jax.random.key(0), noise='uniform')
    with pytest.raises(ValueError, match='num_terms'):
        ld.power_series_log_det(g, x, jax.random.key(0), num_terms=0)
    with pytest.raises(ValueError, match='roulette probability'):
        ld.russian_roulette_log_det(g, x, jax.random.key(0), p=1.0)
    with pytest.raises(ValueError, match='gradient'):
        ld.power_series_log_det(g, x, jax.random.key(0), gradient='adjoint')
