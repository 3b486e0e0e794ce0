"""The context c through the flow contract: layer(x, context=c) -> (y, log_det) and back.

For every layer that uses c: round trip in float32 and float64, the log-det equals slogdet
of the Jacobian in x at fixed c (float64), and the output really depends on c.  Chains,
scans (autodiff, unrolled, invertible backprop) and whole models carry c unchanged.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests.flows.checks import perturb, to64
from zoo import flows
from zoo.flows.dense import DenseFlow

KEY = jax.random.key(0)
IMAGE = jax.random.normal(jax.random.key(1), (3, 4, 4, 4))
FLAT = jax.random.normal(jax.random.key(2), (3, 10))
CONTEXT = jax.nn.one_hot(jnp.array([0, 2, 1]), 3)
STEPS = {'hidden': 8, 'permutation': 'lu'}

LAYERS = {
    'affine_channel_conv': (flows.ChannelCoupling(8, 'affine'), IMAGE),
    'additive_channel_conv': (flows.ChannelCoupling(8, 'additive', parity=1), IMAGE),
    'affine_interleave_mlp': (flows.ChannelCoupling(16, 'affine', split='interleave', net='mlp', depth=2), FLAT),
    'checkerboard_affine': (flows.MaskedCoupling(8, mask='checkerboard'), IMAGE),
    'glow_step': (flows.GlowStep(**STEPS), IMAGE),
    'scanned_autodiff': (flows.ScannedChain(flows.GlowStep, STEPS, 3), IMAGE),
    'scanned_unrolled': (flows.ScannedChain(flows.GlowStep, STEPS, 3, unroll=True), IMAGE),
    'scanned_invertible': (flows.ScannedChain(flows.GlowStep, STEPS, 3, backprop='invertible'), IMAGE),
    'learned_prior': (flows.LearnedPrior(), IMAGE),
}
SCALE = {'scanned_autodiff': 0.05, 'scanned_unrolled': 0.05, 'scanned_invertible': 0.05}


def brute_force_log_det(fn, x):
    """slogdet of fn's Jacobian at one example, by reverse mode: ``jacfwd`` cannot differentiate
    through invertible backprop's custom_vjp."""
    flat = lambda v: fn(v.reshape(x.shape)).reshape(-1)
    sign, log_det = jnp.linalg.slogdet(jax.jit(jax.jacrev(flat))(x.reshape(-1)))
    assert sign != 0
    return log_det


def init(layer, x, scale=0.2):
    return perturb(layer.init(KEY, x, context=CONTEXT), jax.random.key(3), scale)


@pytest.mark.parametrize('name', sorted(LAYERS))
def test_context_round_trip_exact_log_det_and_use(name):
    layer, x = LAYERS[name]
    v = init(layer, x, SCALE.get(name, 0.2))
    apply = jax.jit(layer.apply, static_argnames='inverse')
    y, ld = apply(v, x, context=CONTEXT)
    x_back, ld_inv = apply(v, y, inverse=True, context=CONTEXT)
    np.testing.assert_allclose(x_back, x, atol=1e-4)
    np.testing.assert_allclose(ld_inv, -ld, rtol=1e-5, atol=1e-4)
    # The layer uses c: another context moves the output.
    y_other, _ = apply(v, x, context=CONTEXT[::-1])
    assert float(jnp.max(jnp.abs(y_other - y))) > 1e-3
    with jax.enable_x64(True):
        v64, x64, c64 = to64(v), x.astype(jnp.float64), CONTEXT.astype(jnp.float64)
        y, ld = apply(v64, x64, context=c64)
        x_back, ld_inv = apply(v64, y, inverse=True, context=c64)
        np.testing.assert_allclose(x_back, x64, atol=1e-10)
        np.testing.assert_allclose(ld_inv, -ld, atol=1e-10)
        for i in range(2):
            fn = lambda xi, i=i: apply(v64, xi[None], context=c64[i : i + 1])[0][0]
            np.testing.assert_allclose(ld[i], brute_force_log_det(fn, x64[i]), rtol=1e-9, atol=1e-9)


def test_conditional_split_round_trip_and_log_det():
    split = flows.Split(conditional=True)
    v = init(split, IMAGE)
    assert v['params']['context']['kernel'].shape == (3, 4)  # mean and log-scale for 2 channels
    x1, eps, ld = split.apply(v, IMAGE, context=CONTEXT)
    x_back, ld_inv = split.apply(v, x1, eps, inverse=True, context=CONTEXT)
    np.testing.assert_allclose(x_back, IMAGE, atol=1e-5)
    np.testing.assert_allclose(ld_inv, -ld, rtol=1e-5)
    assert float(jnp.max(jnp.abs(split.apply(v, IMAGE, context=CONTEXT[::-1])[1] - eps))) > 1e-3
    with jax.enable_x64(True):
        v64, x64, c64 = to64(v), IMAGE.astype(jnp.float64), CONTEXT.astype(jnp.float64)
        fn = lambda z2: split.apply(v64, jnp.concatenate([x64[0, ..., :2], z2], -1)[None], context=c64[:1])[1][0]
        np.testing.assert_allclose(
            split.apply(v64, x64, context=c64)[2][0], brute_force_log_det(fn, x64[0, ..., 2:]), rtol=1e-9
        )


def test_context_parameters_start_at_zero_so_the_flow_starts_unconditional():
    """Zero-initialised context maps: at init, p(x | c) is the same for every c."""
    model = flows.Glow(image_shape=(4, 4, 2), num_levels=17, scales=2, flow_steps=2, hidden=8, conditional_split=True)
    x = jax.random.uniform(KEY, (3, 4, 4, 2)) - 0.5
    v = model.init(KEY, x, context=CONTEXT)
    lp = model.apply(v, x, context=CONTEXT, method=model.log_prob)
    np.testing.assert_allclose(model.apply(v, x, context=CONTEXT[::-1], method=model.log_prob), lp, rtol=1e-6)


@pytest.mark.parametrize('backprop', ['autodiff', 'invertible'])
def test_conditional_glow_round_trip_log_det_and_gradients(backprop):
    """Whole class-conditional Glow (top and split priors and couplings conditioned):
    float64 round trip, log-det against the Jacobian, and invertible backprop's
    gradients equal autodiff's."""
    kw = {'image_shape': (4, 4, 2), 'num_levels': 17, 'scales': 2, 'flow_steps': 2, 'hidden': 8, 'permutation': 'lu'}
    kw |= {'conditional_split': True, 'conditional_couplings': True, 'num_classes': 3, 'scan': True}
    model = flows.Glow(**kw, backprop=backprop)
    x = jax.random.uniform(KEY, (3, 4, 4, 2)) - 0.5
    v = perturb(flows.Glow(**kw).init(KEY, x, context=CONTEXT), jax.random.key(4), 0.05)
    with jax.enable_x64(True):
        v64, x64, c64 = to64(v), x.astype(jnp.float64), CONTEXT.astype(jnp.float64)
        latents, ld = model.apply(v64, x64, context=c64, mutable=['intermediates'])[0]
        x_back = model.apply(v64, latents, inverse=True, context=c64)[0]
        np.testing.assert_allclose(x_back, x64, atol=1e-10)
        fn = lambda xi: jnp.concatenate(
            [z.reshape(-1) for z in model.apply(v64, xi[None], context=c64[:1], mutable=['intermediates'])[0][0]]
        )
        np.testing.assert_allclose(ld[0], brute_force_log_det(fn, x64[0]), rtol=1e-9)

        def loss(params, x, m):
            lp = m.apply({**v64, 'params': params}, x, context=c64, method=m.log_prob, mutable=['intermediates'])[0]
            return -jnp.mean(lp)

        g = jax.grad(loss)(v64['params'], x64, model)
        g_ref = jax.grad(loss)(v64['params'], x64, flows.Glow(**kw))
        for a, b in zip(jax.tree.leaves(g), jax.tree.leaves(g_ref)):
            np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)


def test_bad_context_is_one_clear_error():
    model = DenseFlow(dim=2, num_layers=2, hidden=8)
    x = jnp.zeros((3, 2))
    with pytest.raises(ValueError, match='context of shape'):
        model.init(KEY, x, context=jnp.zeros((2, 3)))
    with pytest.raises(TypeError, match='floating-point context'):
        model.init(KEY, x, context=jnp.zeros((3, 3), jnp.int32))
