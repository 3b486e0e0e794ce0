"""Network shapes for every dataset size, and the stage count rule."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from zoo.gan.nets import DCGANCritic, DCGANGenerator, MLPCritic, MLPGenerator, num_stages


@pytest.mark.parametrize('height, stages', [(8, 1), (28, 2), (32, 3), (64, 4)])
def test_num_stages(height, stages):
    assert num_stages(height) == stages


def test_odd_heights_are_refused():
    with pytest.raises(ValueError, match='even image height of at least 8'):
        num_stages(7)


def shapes(module, x):
    variables = jax.eval_shape(module.init, jax.random.key(0), x)
    return jax.eval_shape(module.apply, variables, x)


@pytest.mark.parametrize('image_shape', [(8, 8, 1), (28, 28, 1), (32, 32, 3), (64, 64, 3)])
def test_dcgan_shapes(image_shape):
    z = jnp.zeros((2, 16))
    assert shapes(DCGANGenerator(image_shape, channels=8), z).shape == (2, *image_shape)
    x = jnp.zeros((2, *image_shape))
    assert shapes(DCGANCritic(channels=8), x).shape == (2,)
    assert shapes(DCGANCritic(channels=8, out_features=16, spectral=True), x).shape == (2, 16)


def test_generator_images_lie_in_the_tanh_range():
    generator = DCGANGenerator((8, 8, 1), channels=4)
    z = 10.0 * jax.random.normal(jax.random.key(1), (4, 8))
    images = jax.jit(lambda key, z: generator.apply(generator.init(key, z), z))(jax.random.key(0), z)
    assert float(jnp.max(jnp.abs(images))) <= 1.0


def test_mlp_shapes():
    assert shapes(MLPGenerator(out_dim=2, hidden=8), jnp.zeros((3, 4))).shape == (3, 2)
    assert shapes(MLPCritic(hidden=8), jnp.zeros((3, 2))).shape == (3,)
    assert shapes(MLPCritic(hidden=8, out_features=5), jnp.zeros((3, 8, 8, 1))).shape == (3, 5)


def test_mlp_generator_output_std_standardises_the_first_batch_and_is_then_a_trained_affine_map():
    z = jax.random.normal(jax.random.key(1), (512, 8))
    plain = MLPGenerator(hidden=128)
    x = plain.apply(plain.init(jax.random.key(2), z), z)
    # Left alone: a spread of about 0.35 around an offset of the same order (the ReLU features' mean).
    assert 0.1 < float(jnp.mean(jnp.std(x, 0))) < 1.0
    standardised = MLPGenerator(hidden=128, output_std=2.0)
    params = standardised.init(jax.random.key(2), z)
    y = standardised.apply(params, z)
    np.testing.assert_allclose(jnp.mean(y, 0), 0.0, atol=1e-4)
    np.testing.assert_allclose(jnp.std(y, 0), 2.0, rtol=1e-4)
    # The same hidden weights, and after init an affine map of the plain output with stored m and a.
    p = params['params']
    np.testing.assert_allclose(y, (x - p['output_mean']) * p['output_scale'], rtol=1e-5, atol=1e-5)
    other = jax.random.normal(jax.random.key(3), (4, 8))
    np.testing.assert_allclose(
        standardised.apply(params, other),
        (plain.apply(plain.init(jax.random.key(2), z), other) - p['output_mean']) * p['output_scale'],
        rtol=1e-5,
        atol=1e-5,
    )
