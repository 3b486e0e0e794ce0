"""zoo.lipschitz: spectrally normalised layers, the regulariser, gradient penalties, clipping."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from zoo import linalg
from zoo.lipschitz import (
    SpectralConv,
    SpectralDense,
    clip_weights,
    critic_gradient_norm,
    gradient_penalty,
    interpolate,
    normalize_weight,
    spectral_norm_regularizer,
)


def _conv_matrix(kernel, shape, strides=(1, 1), padding='SAME'):
    apply, _ = linalg.conv_operator(kernel, shape, strides, padding)
    basis = jnp.eye(int(np.prod(shape)), dtype=kernel.dtype).reshape(-1, *shape)
    return np.asarray(jax.vmap(lambda e: apply(e).ravel())(basis).T)


def test_normalize_weight_modes():
    w = jnp.full((2, 2), 3.0)
    np.testing.assert_allclose(normalize_weight(w, 6.0, 1.0, 'normalize'), w / 6)
    np.testing.assert_allclose(normalize_weight(w, 0.5, 1.0, 'normalize'), w * 2)  # always divides
    np.testing.assert_allclose(normalize_weight(w, 6.0, 0.9, 'shrink'), w * 0.9 / 6)
    np.testing.assert_allclose(normalize_weight(w, 0.5, 0.9, 'shrink'), w)  # never enlarges
    with pytest.raises(ValueError, match='unknown spectral mode'):
        normalize_weight(w, 1.0, 1.0, 'clip')


def test_spectral_dense_normalizes_and_updates_its_vector_only_when_asked():
    layer = SpectralDense(6, coeff=1.0, mode='normalize', init_iters=200)
    x = jax.random.normal(jax.random.key(0), (4, 5))
    variables = layer.init(jax.random.key(1), x)
    kernel = variables['params']['kernel']
    w_hat = kernel / np.linalg.norm(np.asarray(kernel), 2)
    np.testing.assert_allclose(layer.apply(variables, x), x @ w_hat, rtol=1e-4, atol=1e-5)
    y, updates = layer.apply(variables, x, update_stats=True, mutable=['spectral'])
    assert not np.allclose(updates['spectral']['u'], 0)
    # read-only by default: asking for an update without making 'spectral' mutable fails
    with pytest.raises(Exception, match='spectral'):
        layer.apply(variables, x, update_stats=True)


def test_spectral_dense_shrink_keeps_small_weights():
    layer = SpectralDense(3, coeff=0.9, mode='shrink', use_bias=False, kernel_init=nn.initializers.constant(0.01))
    x = jnp.ones((2, 4))
    variables = layer.init(jax.random.key(0), x)
    np.testing.assert_allclose(layer.apply(variables, x), x @ variables['params']['kernel'], rtol=1e-6)


def test_spectral_conv_bounds_the_conv_operator_norm():
    layer = SpectralConv(
        3,
        kernel_size=(3, 3),
        coeff=0.9,
        mode='shrink',
        init_iters=1000,
        use_bias=False,
        kernel_init=nn.initializers.normal(1.0),
    )
    x = jax.random.normal(jax.random.key(2), (2, 5, 5, 2))
    variables = jax.jit(layer.init)(jax.random.key(3), x)
    kernel = variables['params']['kernel']
    sigma = np.linalg.svd(_conv_matrix(kernel, (5, 5, 2)), compute_uv=False)[0]
    assert sigma > 0.9
    expected = jax.lax.conv_general_dilated(
        x, kernel * 0.9 / sigma, (1, 1), 'SAME', dimension_numbers=('NHWC', 'HWIO', 'NHWC')
    )
    np.testing.assert_allclose(jax.jit(layer.apply)(variables, x), expected, rtol=1e-3, atol=1e-4)
    with pytest.raises(ValueError, match='input size'):
        layer.apply(variables, jnp.ones((2, 6, 6, 2)))


def test_one_iteration_per_step_tracks_sigma_while_training():
    """The carried vector follows the weights: sigma after a few update steps matches SVD."""
    layer = SpectralDense(4, init_iters=1)
    x = jnp.ones((1, 4))
    variables = layer.init(jax.random.key(4), x)
    step = jax.jit(lambda v: layer.apply(v, x, update_stats=True, mutable=['spectral', 'sigmas'])[1])
    for _ in range(60):
        updates = step(variables)
        variables = {**variables, 'spectral': updates['spectral']}
    sigma = updates['sigmas']['sigma'][0]
    np.testing.assert_allclose(sigma, np.linalg.norm(np.asarray(variables['params']['kernel']), 2), rtol=1e-4)


def test_spectral_norm_regularizer_is_lambda_sigma_squared_and_differentiable():
    layer = SpectralDense(3, mode='none', init_iters=300)
    x = jnp.ones((1, 5))
    variables = layer.init(jax.random.key(5), x)

    def penalty(params):
        _, state = layer.apply({**variables, 'params': params}, x, mutable=['sigmas'])
        return spectral_norm_regularizer(state['sigmas'], 0.1)

    kernel = np.asarray(variables['params']['kernel'])
    left, s, right = np.linalg.svd(kernel)
    np.testing.assert_allclose(penalty(variables['params']), 0.1 * s[0] ** 2, rtol=1e-4)
    grad = jax.grad(penalty)(variables['params'])['kernel']
    np.testing.assert_allclose(grad, 0.2 * s[0] * np.outer(left[:, 0], right[0]), rtol=1e-3, atol=1e-5)
    with pytest.raises(ValueError, match='no sigmas'):
        spectral_norm_regularizer({}, 0.1)


def test_gradient_penalty_on_a_linear_critic():
    """D(x) = <a, x>: |grad D| = |a| everywhere, so the penalty is lambda (|a| - 1)^2 exactly."""
    x_real = jax.random.normal(jax.random.key(6), (8, 3, 2))
    x_fake = jax.random.normal(jax.random.key(7), (8, 3, 2))
    for scale, one_sided_expected in [(2.0, 1.0), (0.5, 0.0)]:
        a = jnp.full((3, 2), scale / np.sqrt(6))  # |a| = scale
        critic = lambda x: jnp.sum(x * a, axis=(1, 2))
        np.testing.assert_allclose(critic_gradient_norm(critic, x_real), np.full(8, scale), rtol=1e-5)
        two = gradient_penalty(critic, jax.random.key(8), x_real, x_fake, weight=10.0)
        one = gradient_penalty(critic, jax.random.key(8), x_real, x_fake, weight=10.0, one_sided=True)
        np.testing.assert_allclose(two, 10 * (scale - 1) ** 2, rtol=1e-5)
        np.testing.assert_allclose(one, 10 * one_sided_expected, rtol=1e-5, atol=1e-6)


def test_gradient_penalty_on_a_quadratic_critic_and_its_parameter_gradient():
    """D(x) = w |x|^2 / 2: grad D(x) = w x, so the penalty at known interpolates is computable."""
    x_real = jax.random.normal(jax.random.key(9), (16, 4))
    x_fake = jax.random.normal(jax.random.key(10), (16, 4))
    key = jax.random.key(11)
    x_hat = interpolate(key, x_real, x_fake)
    norms = np.linalg.norm(np.asarray(x_hat), axis=1)
    penalty = lambda w: gradient_penalty(lambda x: w * 0.5 * jnp.sum(x * x, 1), key, x_real, x_fake, 1.0)
    np.testing.assert_allclose(penalty(0.7), np.mean((0.7 * norms - 1) ** 2), rtol=1e-5)
    np.testing.assert_allclose(jax.grad(penalty)(0.7), np.mean(2 * (0.7 * norms - 1) * norms), rtol=1e-4)
    with pytest.raises(ValueError, match='differ in shape'):
        interpolate(key, x_real, x_fake[:3])


def test_interpolates_lie_on_segments():
    x_real, x_fake = jnp.zeros((100, 2)), jnp.ones((100, 2))
    x_hat = interpolate(jax.random.key(12), x_real, x_fake)
    assert np.all((x_hat >= 0) & (x_hat <= 1))
    np.testing.assert_allclose(x_hat[:, 0], x_hat[:, 1])  # one eps per example


def test_clip_weights():
    params = {'a': jnp.array([-1.0, 0.005, 2.0]), 'b': {'c': jnp.array(0.5)}}
    clipped = clip_weights(params, 0.01)
    np.testing.assert_allclose(clipped['a'], [-0.01, 0.005, 0.01])
    np.testing.assert_allclose(clipped['b']['c'], 0.01)
    with pytest.raises(ValueError, match='positive'):
        clip_weights(params, 0.0)


def test_spectral_layers_jit_and_grad():
    layer = SpectralConv(2, kernel_size=(3, 3), coeff=0.9, mode='shrink')
    x = jnp.ones((2, 4, 4, 1))
    variables = layer.init(jax.random.key(13), x)

    @jax.jit
    def loss(params):
        y, state = layer.apply({**variables, 'params': params}, x, update_stats=True, mutable=['spectral'])
        return jnp.sum(y**2), state

    (value, state), grads = jax.value_and_grad(loss, has_aux=True)(variables['params'])
    assert np.isfinite(value) and all(np.all(np.isfinite(g)) for g in jax.tree.leaves(grads))
    assert state['spectral']['u'].shape == (4, 4, 2)


def test_spectral_kernel_returns_the_normalised_weight_and_updates_when_mutable():
    from zoo.lipschitz import SpectralKernel

    layer = SpectralKernel(
        (3, 3, 2, 2),
        input_shape=(4, 4, 2),
        coeff=0.5,
        mode='shrink',
        init_iters=1000,
        kernel_init=nn.initializers.normal(1.0),
    )
    variables = layer.init(jax.random.key(14))
    kernel = variables['params']['kernel']
    sigma = np.linalg.svd(_conv_matrix(kernel, (4, 4, 2)), compute_uv=False)[0]
    np.testing.assert_allclose(layer.apply(variables), kernel * 0.5 / sigma, rtol=1e-3)
    _, updated = layer.apply(variables, mutable=['spectral'])  # update_stats=None: follows mutability
    assert updated['spectral']['u'].shape == (4, 4, 2)
    with pytest.raises(ValueError, match='input_shape'):
        SpectralKernel((3, 3, 2, 2)).init(jax.random.key(0))
