"""The fixed-point inverse reaches its tolerance, and says so when it does not."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from zoo.residual.inverse import check_inverse, fixed_point_inverse


def _contraction(lip):
    a = jax.random.normal(jax.random.key(0), (5, 5), jnp.float64)
    a = lip * a / np.linalg.norm(np.asarray(a), 2)
    return lambda x: jnp.sin(x @ a.T)


def test_inverse_reaches_tolerance_within_the_cap():
    with jax.enable_x64(True):
        g = _contraction(0.9)
        x = jax.random.normal(jax.random.key(1), (4, 5), jnp.float64)
        y = x + g(x)
        x_rec, info = jax.jit(lambda y: fixed_point_inverse(g, y, 1e-6, 200))(y)
        assert bool(info.converged) and float(info.error) <= 1e-6
        # Banach: |x_n - x| <= L/(1-L) |x_n - x_{n-1}|, so 1e-6 steps leave at most 1e-5 error
        np.testing.assert_allclose(x_rec, x, atol=1e-5)
        assert int(info.iterations) < 200
        check_inverse(info)


def test_unconverged_inverse_is_reported():
    with jax.enable_x64(True):
        g = _contraction(0.9)
        x = jax.random.normal(jax.random.key(2), (4, 5), jnp.float64)
        _, info = fixed_point_inverse(g, x + g(x), 1e-10, max_iters=2)
        assert not bool(info.converged) and float(info.error) > 1e-10 and int(info.iterations) == 2
        with pytest.raises(RuntimeError, match='did not converge'):
            check_inverse(info)
    with pytest.raises(ValueError, match='tol'):
        fixed_point_inverse(g, x, 0.0)
