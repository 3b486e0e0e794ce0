"""Energy networks: one finite value per example, smooth in x, bad settings named."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from zoo.ebm.energy import ConvEnergy, MLPEnergy


def split_variables(variables):
    variables = dict(variables)
    return variables.pop('params'), variables


def energy_fn(module, params, other):
    return jax.jit(lambda x: module.apply({'params': params, **other}, x))


@pytest.mark.parametrize(
    'module, shape',
    [(ConvEnergy(features=(4, 8), hidden=8, spectral_norm=False), (3, 8, 8, 1)), (MLPEnergy(hidden=(8, 8)), (3, 2))],
)
def test_energy_is_one_value_per_example_with_a_gradient_in_x(module, shape):
    x = jax.random.uniform(jax.random.PRNGKey(0), shape)
    params, other = split_variables(jax.jit(module.init)(jax.random.PRNGKey(1), x))
    energy = energy_fn(module, params, other)
    u = energy(x)
    assert u.shape == (3,) and np.all(np.isfinite(u))
    # Examples do not interact: the energy of one example ignores the others.
    np.testing.assert_allclose(energy(x[:1]), u[:1], rtol=1e-5)
    grad = jax.jit(jax.grad(lambda y: jnp.sum(energy(y))))(x)
    assert grad.shape == shape and float(jnp.abs(grad).sum()) > 0


def test_spectral_norm_bounds_the_energy_gradient_and_training_updates_u():
    """Each normalised layer is c-Lipschitz and swish at most 1.1-Lipschitz, so
    |grad_x U| <= c^(layers) 1.1^(swishes) whatever the weights' scale."""
    c = 2.0
    module = ConvEnergy(features=(4, 8), hidden=8, spectral_norm=True, layer_lipschitz=c)
    x = jax.random.uniform(jax.random.PRNGKey(0), (6, 8, 8, 1))
    params, other = split_variables(jax.jit(module.init)(jax.random.PRNGKey(1), x))
    assert sorted(other) == ['spectral']
    params = jax.tree.map(lambda p: 50.0 * p, params)  # large weights: a plain net would be steep
    energy = energy_fn(module, params, other)
    grads = jax.jit(jax.grad(lambda y: jnp.sum(energy(y))))(x).reshape(6, -1)
    assert float(jnp.linalg.norm(grads, axis=1).max()) <= c**4 * 1.1**3 * 1.01
    _, updated = jax.jit(lambda v: module.apply(v, x, update_stats=True, mutable=['spectral']))(
        {'params': params, **other}
    )
    changed = jax.tree.map(lambda a, b: float(jnp.abs(a - b).max()), other['spectral'], updated['spectral'])
    assert max(jax.tree.leaves(changed)) > 0


def test_strides_set_each_convs_downsampling():
    """strides (2, 2) halves the 8x8 input twice: the hidden layer sees 2 x 2 x 8 features."""
    module = ConvEnergy(features=(4, 8), hidden=8, spectral_norm=False, strides=(2, 2))
    x = jnp.zeros((2, 8, 8, 1))
    params, _ = split_variables(module.init(jax.random.PRNGKey(0), x))
    assert params['hidden']['kernel'].shape == (2 * 2 * 8, 8) and module.apply({'params': params}, x).shape == (2,)
    default, _ = split_variables(
        ConvEnergy(features=(4, 8), hidden=8, spectral_norm=False).init(jax.random.PRNGKey(0), x)
    )
    assert default['hidden']['kernel'].shape == (4 * 4 * 8, 8)  # first conv stride 1, then 2
    with pytest.raises(ValueError, match='one stride per conv'):
        ConvEnergy(features=(4, 8), strides=(2,)).init(jax.random.PRNGKey(0), x)
