"""The residual block as a flow layer: exact log-det vs slogdet of its Jacobian, round trip, estimators."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests.flows.checks import perturb, to64
from zoo.residual.block import ResidualBlock


@pytest.fixture(scope='module', params=['mlp', 'cnn'])
def block64(request):
    """A block with perturbed weights, in float64, and an input."""
    shape = (5,) if request.param == 'mlp' else (2, 2, 2)
    with jax.enable_x64(True):
        block = ResidualBlock(hidden=(8, 8), logdet='exact', activation='lipswish')
        x = jax.random.normal(jax.random.key(0), (3, *shape), jnp.float64)
        variables = to64(perturb(jax.jit(block.init)(jax.random.key(1), x), jax.random.key(2), 0.5))
        # converge the power-iteration vectors for the perturbed weights
        step = jax.jit(lambda v: block.apply(v, x, mutable=['spectral'])[1])
        for _ in range(30):
            variables = {**variables, **step(variables)}
        yield block, variables, x


def test_exact_log_det_equals_slogdet_of_the_jacobian(block64):
    block, variables, x = block64
    with jax.enable_x64(True):
        y, log_det = jax.jit(block.apply)(variables, x)
        forward = lambda xi: block.apply(variables, xi[None])[0][0].ravel()
        jac = jax.jit(jax.vmap(jax.jacfwd(lambda xi: forward(xi.reshape(x.shape[1:])))))(x.reshape(3, -1))
        np.testing.assert_allclose(log_det, [np.linalg.slogdet(j)[1] for j in np.asarray(jac)], rtol=1e-10)
        assert y.shape == x.shape and log_det.shape == (3,)


def test_inverse_round_trip_to_tolerance(block64):
    block, variables, x = block64
    with jax.enable_x64(True):
        apply = jax.jit(block.apply, static_argnames='inverse')
        y, log_det = apply(variables, x)
        (x_rec, inv_log_det), diag = jax.jit(lambda v, y: block.apply(v, y, inverse=True, mutable=['diagnostics']))(
            variables, y
        )
        np.testing.assert_allclose(x_rec, x, atol=1e-5)
        # The inverse is a fixed point solved to 1e-6, so its log-det, taken at that point,
        # agrees to the error times the log-det's slope (|log det| is below 0.1 here).
        np.testing.assert_allclose(inv_log_det, -log_det, atol=1e-7)
        assert bool(diag['diagnostics']['inverse_converged'][0])
        assert float(diag['diagnostics']['inverse_error'][0]) <= 1e-6


@pytest.mark.parametrize('logdet,gradient', [('series', 'backprop'), ('roulette', 'neumann')])
def test_stochastic_estimators_run_under_jit_and_grad(logdet, gradient):
    block = ResidualBlock(hidden=(8,), kernel_sizes=(3, 3), logdet=logdet, gradient=gradient)
    x = jax.random.normal(jax.random.key(3), (2, 4, 4, 2))
    variables = jax.jit(block.init)(jax.random.key(4), x)

    @jax.jit
    def loss(params, key):
        (y, log_det), _ = block.apply({**variables, 'params': params}, x, rngs={'logdet': key}, mutable=['spectral'])
        return jnp.mean(y**2) - jnp.mean(log_det)

    value, grads = jax.value_and_grad(loss)(variables['params'], jax.random.key(5))
    assert np.isfinite(value)
    assert all(np.all(np.isfinite(g)) for g in jax.tree.leaves(grads))
    assert any(np.any(g != 0) for g in jax.tree.leaves(grads))


def test_bad_block_settings():
    with pytest.raises(ValueError, match='log-det estimator'):
        ResidualBlock(logdet='lanczos')
    with pytest.raises(ValueError, match='Lipschitz coefficient'):
        ResidualBlock(coeff=1.0)
