"""Energy networks: one finite value per example, smooth in x, bad settings named."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from zoo.ebm.energy import ConvEnergy, MLPEnergy, energy_fn, split_variables


@pytest.mark.parametrize('module, shape', [(ConvEnergy(features=(4, 8), hidden=8), (3, 8, 8, 1)),
                                           (MLPEnergy(hidden=(8, 8)), (3, 2))])
def test_energy_is_one_value_per_example_with_a_gradient_in_x(module, shape):
    x = jax.random.uniform(jax.random.PRNGKey(0), shape)
    params, other = split_variables(module.init(jax.random.PRNGKey(1), x))
    energy = energy_fn(module, params, other)
    u = energy(x)
    assert u.shape == (3,) and np.all(np.isfinite(u))
    # Examples do not interact: the energy of one example ignores the others.
    np.testing.assert_allclose(energy(x[:1]), u[:1], rtol=1e-5)
    grad = jax.grad(lambda y: jnp.sum(energy(y)))(x)
    assert grad.shape == shape and float(jnp.abs(grad).sum()) > 0


def test_spectral_norm_without_the_shared_module_is_a_clear_error():
    try:
        import zoo.lipschitz  # noqa: F401
        pytest.skip('zoo.lipschitz is present')
    except ImportError:
        pass
    with pytest.raises(ValueError, match='needs zoo.lipschitz'):
        ConvEnergy(features=(4,), hidden=4, spectral_norm=True).init(jax.random.PRNGKey(0), jnp.zeros((1, 4, 4, 1)))
