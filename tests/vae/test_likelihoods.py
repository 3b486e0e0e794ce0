"""The VAE's per-pixel likelihoods against their closed forms."""

import jax
import jax.numpy as jnp
import numpy as np

from zoo.vae import likelihoods


def test_gaussian_is_half_the_squared_error_to_the_sigmoid_mean():
    pixels = jnp.array([[[[0], [255]], [[128], [7]]]], jnp.uint8)
    x = likelihoods.observe(jax.random.PRNGKey(0), pixels, 256, 'gaussian')
    np.testing.assert_allclose(x, pixels / 255.0, rtol=1e-6)
    decoded = jnp.array([[[[0.3], [-2.0]], [[1.5], [0.0]]]])
    mean = jax.nn.sigmoid(decoded)
    expected = -0.5 * jnp.sum((x - mean) ** 2) - 2 * np.log(2 * np.pi)
    np.testing.assert_allclose(likelihoods.log_likelihood(x, decoded, 256, 'gaussian'), [expected], rtol=1e-6)
    np.testing.assert_array_equal(
        likelihoods.mean_pixels(decoded, 256, 'gaussian'), likelihoods.mean_pixels(decoded, 256, 'bernoulli')
    )
