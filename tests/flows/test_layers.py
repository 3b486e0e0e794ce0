"""Every invertible layer: round trip (float32, float64) and log-det against the Jacobian."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests.flows.checks import check_layer, init_perturbed, jit_apply
from zoo import flows

KEY = jax.random.key(0)
IMAGE = jax.random.normal(jax.random.key(1), (3, 4, 4, 4))  # (N, H, W, C)
FLAT = jax.random.normal(jax.random.key(2), (3, 10))

LAYERS = {
    'additive_channel': (flows.ChannelCoupling(8, 'additive'), IMAGE),
    'affine_channel_sigmoid': (flows.ChannelCoupling(8, 'affine', scale_fn='sigmoid'), IMAGE),
    'affine_channel_tanh_parity1': (flows.ChannelCoupling(8, 'affine', parity=1, scale_fn='tanh'), IMAGE),
    'affine_odd_channels': (flows.ChannelCoupling(8, 'affine'), IMAGE[..., :3]),
    'additive_interleave_mlp': (flows.ChannelCoupling(16, 'additive', split='interleave', net='mlp', depth=2), FLAT),
    'affine_interleave_mlp_parity1': (
        flows.ChannelCoupling(16, 'affine', parity=1, split='interleave', net='mlp'),
        FLAT,
    ),
    'checkerboard_affine': (flows.MaskedCoupling(8, mask='checkerboard'), IMAGE),
    'checkerboard_additive_parity1': (flows.MaskedCoupling(8, 'additive', mask='checkerboard', parity=1), IMAGE),
    'channel_mask_affine': (flows.MaskedCoupling(8, mask='channel', parity=1), IMAGE),
    'scaling': (flows.Scaling(), FLAT),
    'reverse': (flows.Reverse(), IMAGE),
    'shuffle': (flows.Shuffle(), IMAGE),
    'actnorm_data': (flows.ActNorm(), IMAGE),
    'actnorm_zero': (flows.ActNorm('zero'), IMAGE),
    'conv1x1': (flows.Conv1x1(), IMAGE),
    'conv1x1_lu': (flows.LUConv1x1(), IMAGE),
    'squeeze': (flows.Squeeze(), IMAGE),
    'learned_prior': (flows.LearnedPrior(), IMAGE),
    'learned_prior_positional': (flows.LearnedPrior(positional=True), IMAGE),
    'glow_step': (flows.GlowStep(8, permutation='lu'), IMAGE),
    'scanned_glow_steps': (flows.ScannedChain(flows.GlowStep, dict(hidden=8), 3), IMAGE),
}
# Large random perturbations make a 3-step chain ill-conditioned in float32 (the float64
# round trip stays at 1e-13), so that chain is perturbed less.
PERTURBATION = {'scanned_glow_steps': 0.05}


@pytest.mark.parametrize('name', sorted(LAYERS))
def test_layer_round_trip_and_exact_log_det(name):
    layer, x = LAYERS[name]
    check_layer(layer, x, KEY, scale=PERTURBATION.get(name, 0.2))


def test_squeeze_moves_2x2_blocks_to_channels():
    x = jnp.arange(16.0).reshape(1, 4, 4, 1)
    y = flows.squeeze(x)
    assert y.shape == (1, 2, 2, 4)
    np.testing.assert_array_equal(y[0, 0, 0], [0, 1, 4, 5])  # the top-left 2x2 block
    np.testing.assert_array_equal(flows.unsqueeze(y), x)


def test_actnorm_data_init_normalises_first_batch():
    x = 3.0 + 2.0 * jax.random.normal(KEY, (64, 4, 4, 3))
    layer = flows.ActNorm()
    y, _ = layer.apply(layer.init(KEY, x), x)
    np.testing.assert_allclose(jnp.mean(y, (0, 1, 2)), 0.0, atol=1e-5)
    np.testing.assert_allclose(jnp.std(y, (0, 1, 2)), 1.0, atol=1e-4)


def test_actnorm_zero_init_is_identity():
    layer = flows.ActNorm('zero')
    y, ld = layer.apply(layer.init(KEY, IMAGE), IMAGE)
    np.testing.assert_array_equal(y, IMAGE)
    np.testing.assert_array_equal(ld, 0.0)


@pytest.mark.parametrize(
    'layer',
    [
        flows.ChannelCoupling(8, scale_fn='tanh'),
        flows.ChannelCoupling(8, 'additive', parity=1),
        flows.MaskedCoupling(8, 'additive'),
        flows.MaskedCoupling(8, parity=1, scale_fn='tanh'),
    ],
    ids=lambda layer: f'{type(layer).__name__}-{layer.parity}',
)
def test_couplings_start_as_identity_on_both_halves(layer):
    # The last conv is zero-initialised, so shift 0 and scale 1 (log-det 0): y = x everywhere.
    y, ld = layer.apply(layer.init(KEY, IMAGE), IMAGE)
    np.testing.assert_allclose(y, IMAGE, atol=1e-6)
    np.testing.assert_allclose(ld, 0.0, atol=1e-5)


@pytest.mark.parametrize('parity', [0, 1])
def test_sigmoid_coupling_starts_as_glows_constant_scale(parity):
    # Glow's s = sigmoid(h + 2) is sigmoid(2) = 0.88 at h = 0: the transformed half shrinks,
    # the conditioning half passes unchanged.
    layer = flows.ChannelCoupling(8, parity=parity)
    y, ld = layer.apply(layer.init(KEY, IMAGE), IMAGE)
    kept, moved = (slice(2, 4), slice(0, 2)) if parity else (slice(0, 2), slice(2, 4))
    s0 = jax.nn.sigmoid(2.0)
    np.testing.assert_array_equal(y[..., kept], IMAGE[..., kept])
    np.testing.assert_allclose(y[..., moved], s0 * IMAGE[..., moved], rtol=1e-6)
    np.testing.assert_allclose(ld, IMAGE[0, ..., moved].size * np.log(s0), rtol=1e-5)


def test_glow_step_starts_as_its_permutation():
    # Zero-init ActNorm and coupling are identities, so the step is just the channel reversal.
    step = flows.GlowStep(8, permutation='reverse', actnorm_init='zero', scale_fn='tanh')
    y, ld = step.apply(step.init(KEY, IMAGE), IMAGE)
    np.testing.assert_allclose(y, IMAGE[..., ::-1], atol=1e-6)
    np.testing.assert_allclose(ld, 0.0, atol=1e-5)


def test_conv1x1_initialised_as_rotation():
    v = flows.Conv1x1().init(KEY, IMAGE)
    w = v['params']['kernel']
    np.testing.assert_allclose(w @ w.T, jnp.eye(4), atol=1e-5)


def test_lu_conv1x1_starts_equal_to_its_rotation_and_keeps_constants_fixed():
    v = flows.LUConv1x1().init(KEY, IMAGE)
    c, p = v['constants'], v['params']
    w = flows.lu_weight(c['perm'], p['lower'], p['upper'], c['sign_s'], p['log_s'])
    np.testing.assert_allclose(w @ w.T, jnp.eye(4), atol=1e-5)
    assert set(p) == {'lower', 'upper', 'log_s'}


def test_float32_log_abs_det_is_accurate():
    from zoo.linalg import log_abs_det, random_rotation

    w = random_rotation(KEY, 64) + 0.05 * jax.random.normal(jax.random.key(3), (64, 64))
    with jax.enable_x64(True):
        exact = jnp.linalg.slogdet(w.astype(jnp.float64))[1]
    assert abs(float(log_abs_det(w)) - float(exact)) < 1e-4


def test_permutation_really_permutes():
    v = flows.Shuffle().init(KEY, IMAGE)
    y, _ = flows.Shuffle().apply(v, IMAGE)
    np.testing.assert_allclose(jnp.sort(y, -1), jnp.sort(IMAGE, -1))
    np.testing.assert_array_equal(flows.Reverse().apply({}, IMAGE)[0], IMAGE[..., ::-1])


@pytest.mark.parametrize('learned,positional', [(True, False), (False, True), (True, True)])
def test_split_learned_prior_round_trip_and_log_det(learned, positional):
    split = flows.Split(learned=learned, positional=positional)
    v = init_perturbed(split, IMAGE, KEY)
    if positional:  # one mean and log-scale per position and channel of the factored half
        assert v['params']['mean'].shape == v['params']['log_scale'].shape == (4, 4, 2)
    x1, eps, ld = split.apply(v, IMAGE)
    assert x1.shape == eps.shape == (3, 4, 4, 2)
    x_back, ld_inv = split.apply(v, x1, eps, inverse=True)
    np.testing.assert_allclose(x_back, IMAGE, atol=1e-5)
    np.testing.assert_allclose(ld_inv, -ld, rtol=1e-6)
    # The map z2 -> eps for fixed x1 is diagonal affine: its log-det is -sum(log sigma).
    with jax.enable_x64(True):
        from tests.flows.checks import brute_force_log_det, to64

        v64, x64 = to64(v), IMAGE.astype(jnp.float64)
        x1_0 = x64[0, ..., :2]
        fn = lambda z2: split.apply(v64, jnp.concatenate([x1_0, z2], -1)[None])[1][0]
        np.testing.assert_allclose(split.apply(v64, x64)[2][0], brute_force_log_det(fn, x64[0, ..., 2:]), rtol=1e-9)


def test_scanned_actnorm_init_sees_each_steps_real_input():
    """With nn.scan, step k's ActNorm is initialised from step k's actual input."""
    x = 2.0 + 3.0 * jax.random.normal(KEY, (32, 4, 4, 4))
    chain = flows.ScannedChain(flows.GlowStep, dict(hidden=8), 3)
    v = jax.jit(chain.init)(KEY, x)
    step = jit_apply(flows.GlowStep(8))
    h = x
    for k in range(3):
        vk = {col: jax.tree.map(lambda a: np.asarray(a[k]), tree['scan']['step']) for col, tree in v.items()}
        np.testing.assert_allclose(vk['params']['layers_0']['bias'], -np.mean(h, (0, 1, 2)), rtol=1e-4, atol=1e-5)
        h, _ = step(vk, h)
    np.testing.assert_allclose(jit_apply(chain)(v, x)[0], h, atol=1e-5)
