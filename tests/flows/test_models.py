"""NICE, RealNVP and Glow at tiny sizes: float64 round trips and exact whole-model log-dets, sampling,
transformations (jit / vmap / grad), a loss that drops, and errors on bad input."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from tests.flows.checks import init_perturbed, jit_apply, slogdet_of_jacobians, there_and_back, to64
from zoo import images
from zoo.distributions import gaussian_log_prob, sum_except_batch
from zoo.flows import NICE, Glow, RealNVP

KEY = jax.random.key(0)


def models(channels):
    shape = (8, 8, channels)
    return {
        'nice': NICE(image_shape=shape, num_levels=17, hidden=16, depth=2),
        'realnvp': RealNVP(image_shape=shape, num_levels=17, scales=2, hidden=8),
        'glow_affine_conv1x1': Glow(image_shape=shape, num_levels=17, scales=2, flow_steps=2, hidden=8, scan=True),
        'glow_additive_lu': Glow(
            image_shape=shape, num_levels=17, scales=2, flow_steps=2, hidden=8, coupling='additive', permutation='lu'
        ),
        'glow_unrolled_shuffle': Glow(
            image_shape=shape,
            num_levels=17,
            scales=2,
            flow_steps=2,
            hidden=8,
            permutation='shuffle',
            scan=False,
            actnorm_init='zero',
        ),
        'glow_logit_input': Glow(image_shape=shape, num_levels=17, scales=2, flow_steps=2, hidden=8, logit_alpha=0.05),
    }


# Every model on one channel; the RGB default (Glow, affine, 1x1 conv) also on three.
CASES = [(1, name) for name in models(1)] + [(3, 'glow_affine_conv1x1')]


@functools.cache  # initialising compiles; share one model across tests
def setup_model(channels, name, scale=0.05):
    model = models(channels)[name]
    pixels = jax.random.randint(jax.random.key(1), (4, 8, 8, channels), 0, 17)
    x = images.dequantize(jax.random.key(2), pixels, 17)
    return model, init_perturbed(model, x, KEY, scale), x, pixels


def test_float32_round_trip_of_the_default_glow():
    """The user's model (RGB, affine couplings, 1x1 convs) in the dtype it trains in."""
    model, v, x, _ = setup_model(3, 'glow_affine_conv1x1')
    latents, log_det, x_back, inv_log_det = jax.jit(there_and_back(model))(v, x)
    assert log_det.shape == (4,)
    np.testing.assert_allclose(x_back, x, atol=1e-5)
    np.testing.assert_allclose(inv_log_det, -log_det, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize('channels,name', CASES)
def test_whole_model_round_trip_and_log_det_match_the_jacobian_in_float64(channels, name):
    # Larger perturbations make a random deep flow's Jacobian numerically singular.
    # One program per model: the float64 round trip, log p(x) and the Jacobian's slogdet.
    model, v, x, _ = setup_model(channels, name)

    def run(v, x):
        latents, log_det, x_back, inv_log_det = there_and_back(model)(v, x)
        flat_latents = lambda xi: jnp.concatenate([z.reshape(-1) for z in model.apply(v, xi[None])[0]])
        log_prob = model.apply(v, x, method=model.log_prob)
        return latents, log_det, x_back, inv_log_det, log_prob, slogdet_of_jacobians(flat_latents, x)

    with jax.enable_x64(True):
        x64 = x[:1].astype(jnp.float64)
        latents, log_det, x_back, inv_log_det, log_prob, (sign, exact) = jax.jit(run)(to64(v), x64)
        assert [z.shape[1:] for z in latents] == model.latent_shapes
        np.testing.assert_allclose(x_back, x64, atol=1e-10)
        np.testing.assert_allclose(inv_log_det, -log_det, rtol=1e-12, atol=1e-10)
        assert log_prob.dtype == jnp.float64 and sign[0] != 0
        np.testing.assert_allclose(log_det, exact, rtol=1e-9)
        # log p(x) is the standard-normal density of the latents plus the log-det.
        expected = sum(sum_except_batch(gaussian_log_prob(z)) for z in latents) + log_det
        np.testing.assert_allclose(log_prob, expected, rtol=1e-12)


@pytest.mark.parametrize('channels,name', [(3, 'glow_affine_conv1x1'), (1, 'realnvp'), (1, 'nice')])
def test_sampling_shapes_and_temperature_zero_is_prior_mode(channels, name):
    model, v, _, _ = setup_model(channels, name)
    # One batch size throughout: each new size would compile the sampler again.
    sample = jax.jit(lambda v, key, t: model.apply(v, key, 8, t, method=model.sample))
    samples = sample(v, KEY, 0.7)
    assert samples.shape == (8, 8, 8, channels) and samples.dtype == jnp.float32
    assert jnp.all(jnp.isfinite(samples))
    zeros = [jnp.zeros((8, *s)) for s in model.latent_shapes]
    decode = jax.jit(lambda v, z: model.apply(v, z, method=model.decode))
    np.testing.assert_allclose(sample(v, KEY, 0.0), decode(v, zeros), atol=1e-6)
    # Different temperatures give different spreads around the mode.
    spread = lambda t: float(jnp.std(sample(v, KEY, t)))
    assert spread(0.3) < spread(1.0)


def test_bits_per_dim_matches_log_prob():
    model, v, _, pixels = setup_model(1, 'glow_affine_conv1x1')
    bpd = model.apply(v, pixels, KEY, method=model.bits_per_dim)
    x = images.dequantize(KEY, pixels, 17)
    lp = model.apply(v, x, method=model.log_prob)
    np.testing.assert_allclose(bpd, (-lp + 64 * np.log(17)) / (64 * np.log(2)), rtol=1e-5)


def test_jit_vmap_grad_of_public_functions():
    model, v, x, pixels = setup_model(1, 'glow_affine_conv1x1')
    log_prob = lambda v, x: model.apply(v, x, method=model.log_prob)
    jitted = jax.jit(log_prob)
    # Eager (op by op) and compiled agree.
    np.testing.assert_allclose(jitted(v, x), log_prob(v, x), rtol=1e-5, atol=1e-4)
    # vmap over an extra axis of batches equals a loop over them.
    batches = jnp.stack([x, x[::-1]])
    np.testing.assert_allclose(
        jax.jit(jax.vmap(log_prob, (None, 0)))(v, batches),
        jnp.stack([jitted(v, b) for b in batches]),
        rtol=1e-5,
        atol=1e-4,
    )
    grads = jax.jit(jax.grad(lambda p: -jnp.mean(log_prob({**v, 'params': p}, x))))(v['params'])
    leaves = jax.tree.leaves(grads)
    assert all(jnp.all(jnp.isfinite(g)) for g in leaves)
    assert sum(float(jnp.sum(jnp.abs(g))) for g in leaves) > 0


def test_a_few_adam_steps_lower_the_loss_of_a_tiny_glow():
    model = Glow(image_shape=(8, 8, 1), num_levels=17, scales=2, flow_steps=2, hidden=16)
    pixels = jax.random.randint(jax.random.key(1), (32, 8, 8, 1), 0, 17) // 4 * 4  # structured data
    v = jax.jit(model.init)(KEY, images.dequantize(KEY, pixels, 17))
    params, rest = v['params'], {k: c for k, c in v.items() if k != 'params'}
    opt = optax.adam(3e-3)
    state = opt.init(params)

    @jax.jit
    def step(params, state, key):
        loss_fn = lambda p: jnp.mean(model.apply({'params': p, **rest}, pixels, key, method=model.bits_per_dim))
        loss, grads = jax.value_and_grad(loss_fn)(params)
        updates, state = opt.update(grads, state)
        return optax.apply_updates(params, updates), state, loss

    losses = []
    for i in range(30):
        params, state, loss = step(params, state, jax.random.key(i))
        losses.append(float(loss))
    assert np.mean(losses[-5:]) < losses[0] - 0.2, losses


@pytest.mark.parametrize(
    'make,match',
    [
        (lambda: Glow(image_shape=(12, 12, 1), scales=3), 'divisible by 8'),
        (lambda: RealNVP(image_shape=(6, 6, 1), scales=3), 'divisible by 4'),
        (lambda: Glow(image_shape=(8, 8), scales=1), 'height, width, channels'),
        (lambda: Glow(image_shape=(8, 8, 1), permutation='rotate'), 'unknown permutation'),
        (lambda: Glow(image_shape=(8, 8, 1), scales=1, coupling='spline'), 'unknown coupling'),
        (lambda: NICE(image_shape=(1, 1, 1)), 'at least 2 dimensions'),
        (lambda: Glow(image_shape=(8, 8, 1), scales=1, prior='cauchy'), 'unknown prior'),
    ],
)
def test_bad_configuration_raises_at_construction(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_inputs_raise_clear_errors():
    model, v, x, pixels = setup_model(1, 'glow_affine_conv1x1')
    with pytest.raises(ValueError, match=r'expected images of shape \(batch, 8, 8, 1\)'):
        model.apply(v, x[0])  # missing batch axis
    with pytest.raises(ValueError, match='expected images of shape'):
        model.apply(v, jnp.zeros((2, 8, 8, 3)))
    with pytest.raises(TypeError, match='floating-point'):
        model.apply(v, pixels)
    with pytest.raises(TypeError, match='integer'):
        model.apply(v, x, KEY, method=model.bits_per_dim)
    with pytest.raises(ValueError, match='list of 2 latents'):
        model.apply(v, [jnp.zeros((1, 4, 4, 2))], method=model.decode)
    with pytest.raises(ValueError, match='latent 1 should have shape'):
        model.apply(v, [jnp.zeros((1, 4, 4, 2)), jnp.zeros((1, 2, 2, 4))], method=model.decode)


def test_layers_reject_inputs_they_cannot_split_or_squeeze():
    from zoo import flows

    one_channel = jnp.zeros((1, 4, 4, 1))
    with pytest.raises(ValueError, match='at least 2 channels'):
        flows.ChannelCoupling(4).init(KEY, one_channel)
    with pytest.raises(ValueError, match='cannot split'):
        flows.Split().init(KEY, one_channel)
    with pytest.raises(ValueError, match='divisible by 2'):
        flows.squeeze(jnp.zeros((1, 5, 4, 1)))
    with pytest.raises(ValueError, match='unknown mask'):
        flows.MaskedCoupling(4, mask='stripes').init(KEY, one_channel)


def test_inputs_flows_refuse_with_a_clear_error():
    model, v, x, pixels = setup_model(1, 'nice')
    with pytest.raises(TypeError, match='flows take float32 or float64 images, got float16'):
        model.apply(v, x.astype(jnp.float16))
    with pytest.raises(ValueError, match='empty batch'):
        model.apply(v, x[:0])
    with pytest.raises(ValueError, match=r'pixels must lie in \[0, 17\) for 17 levels, got values in \[0, 200\]'):
        model.apply(v, pixels.at[0, 0, 0, 0].set(200), KEY, method=model.bits_per_dim)


def test_glow_scanned_and_unrolled_share_variables_values_and_gradients():
    """scan=True and scan=False are two ways to run the same stacked variables (a checkpoint
    from a GPU, scanned, runs unrolled on a CPU); scan=None picks unrolled on CPU."""
    model, v, x, _ = setup_model(1, 'glow_additive_lu')
    scanned, unrolled = model.clone(scan=True), model.clone(scan=False)
    assert jax.tree.structure(jax.eval_shape(unrolled.init, KEY, x)) == jax.tree.structure(v)
    assert scanned.clone(scan=None).scanned == (jax.default_backend() != 'cpu')
    assert scanned.clone(scan=None, backprop='invertible').scanned

    def loss_and_grads(model):
        def loss(params):
            return -jnp.mean(model.apply({**v, 'params': params}, x, method=model.log_prob))

        return jax.jit(jax.value_and_grad(loss))(v['params'])

    (l_s, g_s), (l_u, g_u) = loss_and_grads(scanned), loss_and_grads(unrolled)
    # The loss and each gradient entry sum per-pixel terms over 64 pixels and a few layers, in a
    # different order when scanned: float32 rounding of about 64 * eps times the terms' size.
    eps = np.finfo(np.float32).eps
    np.testing.assert_allclose(l_u, l_s, rtol=0, atol=float(64 * eps * abs(l_s)))
    for a, b in zip(jax.tree.leaves(g_u), jax.tree.leaves(g_s)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=float(64 * eps * np.max(np.abs(b))))
    latents = jit_apply(scanned)(v, x)[0]
    np.testing.assert_allclose(jit_apply(unrolled)(v, latents, inverse=True)[0], x, atol=1e-5)
