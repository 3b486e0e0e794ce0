"""The context c through the flow contract: layer(x, context=c) -> (y, log_det) and back.

For every layer that uses c: round trip in float32 and float64, the log-det equals slogdet
of the Jacobian in x at fixed c (float64), and the output really depends on c.  Chains,
scans (autodiff, unrolled, invertible backprop) and whole models carry c unchanged.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests.flows import checks
from tests.flows.checks import perturb, slogdet_of_jacobians, there_and_back, to64
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
    """By reverse mode: ``jacfwd`` cannot differentiate through invertible backprop's custom_vjp."""
    return checks.brute_force_log_det(fn, x, jacobian=jax.jacrev)


def init(layer, x, scale=0.2):
    return perturb(jax.jit(layer.init)(KEY, x, context=CONTEXT), jax.random.key(3), scale)


@pytest.mark.parametrize('name', sorted(LAYERS))
def test_context_round_trip_exact_log_det_and_use(name):
    layer, x = LAYERS[name]
    v = init(layer, x, SCALE.get(name, 0.2))
    run = jax.jit(there_and_back(layer))
    y, ld, x_back, ld_inv = run(v, x, context=CONTEXT)
    np.testing.assert_allclose(x_back, x, atol=1e-4)
    np.testing.assert_allclose(ld_inv, -ld, rtol=1e-5, atol=1e-4)
    # The layer uses c: another context moves the output.
    y_other = run(v, x, context=CONTEXT[::-1])[0]
    assert float(jnp.max(jnp.abs(y_other - y))) > 1e-3

    def run64(v, x, c):
        one = lambda xi, ci: layer.apply(v, xi[None], context=ci[None])[0][0]
        return there_and_back(layer)(v, x, context=c), slogdet_of_jacobians(one, x[:2], c[:2], jacobian=jax.jacrev)

    with jax.enable_x64(True):
        x64 = x.astype(jnp.float64)
        (_, ld, x_back, ld_inv), (sign, exact) = jax.jit(run64)(to64(v), x64, CONTEXT.astype(jnp.float64))
        np.testing.assert_allclose(x_back, x64, atol=1e-10)
        np.testing.assert_allclose(ld_inv, -ld, atol=1e-10)
        assert np.all(sign != 0)
        np.testing.assert_allclose(ld[:2], exact, rtol=1e-9, atol=1e-9)


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
    v = jax.jit(model.init)(KEY, x, context=CONTEXT)
    log_prob = jax.jit(lambda v, x, c: model.apply(v, x, context=c, method=model.log_prob))
    np.testing.assert_allclose(log_prob(v, x, CONTEXT[::-1]), log_prob(v, x, CONTEXT), rtol=1e-6)


@pytest.mark.slow  # a whole model; each layer's context check is above
def test_conditional_glow_round_trip_log_det_and_invertible_gradients():
    """Whole class-conditional Glow (top and split priors and couplings conditioned), run
    through invertible backprop: float64 round trip, log-det against the Jacobian (taken
    through the custom VJP), and gradients equal to the autodiff Glow's."""
    kw = {'image_shape': (4, 4, 2), 'num_levels': 17, 'scales': 2, 'flow_steps': 2, 'hidden': 8, 'permutation': 'lu'}
    kw |= {'conditional_split': True, 'conditional_couplings': True, 'num_classes': 3, 'scan': True}
    model, autodiff = flows.Glow(**kw, backprop='invertible'), flows.Glow(**kw)
    x = jax.random.uniform(KEY, (3, 4, 4, 2)) - 0.5
    v = perturb(jax.jit(autodiff.init)(KEY, x, context=CONTEXT), jax.random.key(4), 0.05)

    def forward(v, x, c):
        return model.apply(v, x, context=c, mutable=['intermediates'])[0]

    def run(v, x, c):
        latents, ld = forward(v, x, c)
        x_back = model.apply(v, latents, inverse=True, context=c)[0]
        flat = lambda xi, ci: jnp.concatenate([z.reshape(-1) for z in forward(v, xi[None], ci[None])[0]])
        return ld, x_back, slogdet_of_jacobians(flat, x[:1], c[:1], jacobian=jax.jacrev)

    def loss(params, v, x, c, m):
        lp = m.apply({**v, 'params': params}, x, context=c, method=m.log_prob, mutable=['intermediates'])[0]
        return -jnp.mean(lp)

    with jax.enable_x64(True):
        v64, x64, c64 = to64(v), x.astype(jnp.float64), CONTEXT.astype(jnp.float64)
        ld, x_back, (sign, exact) = jax.jit(run)(v64, x64, c64)
        np.testing.assert_allclose(x_back, x64, atol=1e-10)
        assert sign[0] != 0
        np.testing.assert_allclose(ld[:1], exact, rtol=1e-9)
        grads = jax.jit(lambda v, x, c: [jax.grad(loss)(v['params'], v, x, c, m) for m in (model, autodiff)])
        g, g_ref = grads(v64, x64, c64)
        for a, b in zip(jax.tree.leaves(g), jax.tree.leaves(g_ref)):
            np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)


def test_bad_context_is_one_clear_error():
    model = DenseFlow(dim=2, num_layers=2, hidden=8)
    x = jnp.zeros((3, 2))
    with pytest.raises(ValueError, match='context of shape'):
        model.init(KEY, x, context=jnp.zeros((2, 3)))
    with pytest.raises(TypeError, match='floating-point context'):
        model.init(KEY, x, context=jnp.zeros((3, 3), jnp.int32))
