"""Conditioner networks: the matmul form of a convolution equals XLA's convolution (values,
gradients and forward-mode derivatives, float64), 'auto' picks it on CPU, and the Conv module
is a drop-in for nn.Conv."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from zoo.flows.nets import Conv, ConvNet, conv_same, resolve_conv_impl

KEY = jax.random.key(0)


@pytest.mark.parametrize(
    'kernel,cin,cout', [((3, 3), 2, 16), ((3, 3), 16, 4), ((3, 3), 5, 5), ((1, 1), 8, 6), ((5, 3), 3, 7)]
)
def test_matmul_conv_equals_xla_conv_with_gradients_in_float64(kernel, cin, cout):
    with jax.enable_x64(True):
        kx, kw, kg = jax.random.split(KEY, 3)
        x = jax.random.normal(kx, (2, 6, 5, cin), jnp.float64)
        w = jax.random.normal(kw, (*kernel, cin, cout), jnp.float64)
        g = jax.random.normal(kg, (2, 6, 5, cout), jnp.float64)

        def value_and_vjp(impl):
            y, vjp = jax.vjp(lambda x, w: conv_same(x, w, impl), x, w)
            return (y, *vjp(g))

        def value_and_jvp(impl):  # forward mode too (jacfwd-based log-det checks use it)
            return jax.jvp(lambda x, w: conv_same(x, w, impl), (x, w), (g[..., :1].repeat(cin, -1), w[::-1]))

        for fn in (value_and_vjp, value_and_jvp):
            for got, want in zip(
                jax.tree.leaves(jax.jit(fn, static_argnums=0)('matmul')),
                jax.tree.leaves(jax.jit(fn, static_argnums=0)('xla')),
            ):
                np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_auto_picks_matmul_on_cpu_and_rejects_unknown_impls():
    assert resolve_conv_impl('auto') == ('matmul' if jax.default_backend() == 'cpu' else 'xla')
    assert resolve_conv_impl('xla') == 'xla'
    with pytest.raises(ValueError, match='unknown conv impl'):
        resolve_conv_impl('winograd')
    with pytest.raises(ValueError, match='odd kernel'):
        conv_same(jnp.zeros((1, 4, 4, 1)), jnp.zeros((2, 2, 1, 1)), 'matmul')


def test_conv_module_has_nn_conv_parameters_and_output():
    x = jax.random.normal(KEY, (2, 4, 4, 3))
    ours, theirs = Conv(5, (3, 3), impl='matmul'), nn.Conv(5, (3, 3), padding='SAME')
    v = theirs.init(KEY, x)
    v = jax.tree.map(lambda p: p + 0.1, v)  # nonzero bias
    assert jax.tree.structure(jax.eval_shape(ours.init, KEY, x)) == jax.tree.structure(v)
    np.testing.assert_allclose(ours.apply(v, x), theirs.apply(v, x), rtol=1e-5, atol=1e-5)


def test_convnet_impls_share_parameters_and_agree():
    x = jax.random.normal(KEY, (2, 4, 4, 4))
    net = ConvNet(8, 6, conv_impl='xla')
    v = jax.tree.map(lambda p: p + 0.05 * jnp.ones_like(p), net.init(KEY, x))
    np.testing.assert_allclose(net.clone(conv_impl='matmul').apply(v, x), net.apply(v, x), rtol=1e-5, atol=1e-5)
