"""The logit input layer: round trip and exact log-det, its place in front of an image flow,
and errors on a bad alpha."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests.flows.checks import check_layer
from zoo import flows, images

KEY = jax.random.key(0)
X = jax.random.uniform(jax.random.key(1), (3, 4, 4, 2), minval=-0.5, maxval=0.5)


@pytest.mark.parametrize('alpha', [1e-6, 0.05])
def test_round_trip_and_exact_log_det(alpha):
    check_layer(flows.Logit(alpha), X, KEY)


def test_saturated_bins_become_about_a_unit_wide():
    alpha, L = 1e-6, 256
    edges = jnp.array([[0.0, 1.0, L - 1.0, L - 1e-3]]) / L - 0.5  # first bin, and the last
    y, _ = flows.logit_transform(edges, alpha)
    assert 8.0 < float(y[0, 1] - y[0, 0]) < 9.0 and 5.0 < float(y[0, 3] - y[0, 2])
    mid, _ = flows.logit_transform(jnp.array([[0.5, 0.5 + 1.0 / L]]) - 0.5, alpha)
    assert float(mid[0, 1] - mid[0, 0]) < 0.02  # a mid-grey bin stays narrow


def test_flow_with_logit_is_the_flow_on_logit_inputs_plus_the_layers_log_det():
    pixels = jax.random.randint(jax.random.key(2), (4, 8, 8, 1), 0, 256)
    x = images.dequantize(jax.random.key(3), pixels, 256)
    kw = dict(image_shape=(8, 8, 1), scales=2, flow_steps=2, hidden=8)
    with_logit, plain = flows.Glow(**kw, logit_alpha=1e-6), flows.Glow(**kw)
    variables = jax.jit(with_logit.init)(KEY, x)
    y, logit_log_det = flows.logit_transform(x, 1e-6)
    # ActNorm's data init saw the logit-space batch: unit variance per channel there.
    first = variables['params']['flows_0']['scan']['step']['layers_0']
    np.testing.assert_allclose(first['log_scale'][0], -jnp.log(jnp.std(flows.squeeze(y), (0, 1, 2))), rtol=1e-4)

    def run(v, x, y):  # one program to compile, rather than op-by-op dispatch
        latents, _ = with_logit.apply(v, x)
        return (
            plain.apply(v, y, method='log_prob'),
            with_logit.apply(v, x, method='log_prob'),
            with_logit.apply(v, latents, method='decode'),
            with_logit.apply(v, KEY, 5, 0.7, method='sample'),
        )

    flow_log_prob, log_prob, decoded, samples = jax.jit(run)(variables, x, y)
    # log p(x) ~ 0.2 here is the sum of two float32 terms of ~ 120 (each a sum over pixels and
    # layers) that nearly cancel: its error scales with the terms' size S, not with its own.
    scale = np.abs(flow_log_prob) + np.abs(logit_log_det)
    np.testing.assert_allclose(
        log_prob, flow_log_prob + logit_log_det, rtol=0, atol=float(16 * np.finfo(np.float32).eps * np.max(scale))
    )
    np.testing.assert_allclose(decoded, x, atol=1e-5)
    assert samples.shape == (5, 8, 8, 1) and bool(jnp.all(jnp.abs(samples) <= 0.5 + 1e-6))


@pytest.mark.parametrize('alpha', [0.0, -1e-3, 1e-8, 0.5, 2.0])
def test_bad_alpha_is_refused(alpha):
    with pytest.raises(ValueError, match='logit alpha must lie in'):
        flows.Logit(alpha)
    if alpha:
        with pytest.raises(ValueError, match='logit alpha must lie in'):
            flows.Glow(image_shape=(8, 8, 1), scales=2, logit_alpha=alpha)


def test_integer_pixels_are_refused_before_the_logit():
    model = flows.Glow(image_shape=(8, 8, 1), scales=2, flow_steps=1, hidden=8, logit_alpha=1e-6)
    with pytest.raises(TypeError, match='zoo.images.dequantize'):
        model.init(KEY, jnp.zeros((2, 8, 8, 1), jnp.int32))
