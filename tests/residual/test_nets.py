"""g's weights are normalised so that Lip(g) < 1, for MLPs and CNNs, and activations are 1-Lipschitz."""

import jax
import jax.numpy as jnp
import pytest

from zoo.residual.activations import get_activation, lipswish
from zoo.residual.nets import LipschitzWeights, branch_function


def _scale_kernels(variables, factor):
    """Multiply every kernel by ``factor``: singular vectors are unchanged, so the stored u stays exact."""
    params = jax.tree_util.tree_map_with_path(
        lambda path, p: p * factor if 'kernel' in jax.tree_util.keystr(path) else p, variables['params']
    )
    return {**variables, 'params': params}


@pytest.mark.parametrize('shape', [(6,), (4, 4, 2)])
def test_lipschitz_constant_below_one_on_random_pairs(shape):
    net = LipschitzWeights(hidden=(16, 16), coeff=0.9)
    conv = len(shape) == 3

    @jax.jit  # one program: the normalised and the raw branch's |g(x) - g(y)| / |x - y|
    def ratios(key):
        variables = _scale_kernels(net.init(key, shape), 20.0)
        weights = net.apply(variables, shape)
        keys = jax.random.split(jax.random.key(1), 3)
        x = 3 * jax.random.normal(keys[0], (512, *shape))
        y = x + 0.1 * jax.random.normal(keys[1], x.shape) * jax.random.uniform(keys[2], (512,) + (1,) * len(shape))
        flat = lambda a: a.reshape(a.shape[0], -1)
        ratio = lambda g: jnp.linalg.norm(flat(g(x) - g(y)), axis=1) / jnp.linalg.norm(flat(x - y), axis=1)
        raw = [dict(w, kernel=variables['params'][f'kernel_{i}']['kernel']) for i, w in enumerate(weights)]
        return ratio(branch_function(weights, 'lipswish', conv)), ratio(branch_function(raw, 'lipswish', conv))

    normalised, raw = ratios(jax.random.key(0))
    assert normalised.max() < 1.0
    assert raw.max() > 1.0  # without normalisation these weights would be far from contractive


def test_activation_derivatives_at_most_one():
    x = jnp.linspace(-10, 10, 20001)
    for beta in (0.1, 1.0, 10.0):
        d = jax.vmap(jax.grad(lambda t: lipswish(t, beta)))(x)
        assert float(jnp.max(jnp.abs(d))) <= 1.0
    d = jax.vmap(jax.grad(get_activation('elu')))(x)
    assert float(jnp.max(d)) <= 1.0
    with pytest.raises(ValueError, match='unknown activation'):
        get_activation('relu6')


def test_cnn_needs_one_kernel_size_per_conv():
    with pytest.raises(ValueError, match='kernel sizes'):
        LipschitzWeights(hidden=(8,), kernel_sizes=(3, 1, 3)).init(jax.random.key(0), (4, 4, 2))
