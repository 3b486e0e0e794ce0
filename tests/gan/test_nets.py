"""Network shapes for every dataset size, and the stage count rule."""

import jax
import jax.numpy as jnp
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
    images = generator.apply(generator.init(jax.random.key(0), z), z)
    assert float(jnp.max(jnp.abs(images))) <= 1.0


def test_mlp_shapes():
    assert shapes(MLPGenerator(out_dim=2, hidden=8), jnp.zeros((3, 4))).shape == (3, 2)
    assert shapes(MLPCritic(hidden=8), jnp.zeros((3, 2))).shape == (3,)
    assert shapes(MLPCritic(hidden=8, out_features=5), jnp.zeros((3, 8, 8, 1))).shape == (3, 5)


def test_mlp_generator_output_scale_multiplies_the_output_of_the_same_weights():
    z = jax.random.normal(jax.random.key(1), (64, 8))
    params = MLPGenerator(hidden=16).init(jax.random.key(0), z)
    plain = MLPGenerator(hidden=16).apply(params, z)
    scaled = MLPGenerator(hidden=16, output_scale=6.0).apply(params, z)
    assert jnp.allclose(scaled, 6.0 * plain, rtol=1e-6, atol=1e-6 * float(jnp.max(jnp.abs(scaled))))
    # The default's spread at initialisation, about 0.35 per coordinate (ReLU halves the second moment
    # of LeCun-normal layers at each of the 3 layers): why the f-GAN ring needs a scale.
    spread = jnp.std(MLPGenerator(hidden=128).apply(MLPGenerator(hidden=128).init(jax.random.key(2), z), z))
    assert 0.1 < float(spread) < 1.0
