"""From integer pixels to a VAE's targets, and the decoder's per-pixel likelihoods.

Two observation models, chosen by name:

    'bernoulli'  dynamic binarisation (Salakhutdinov & Murray 2008; IWAE, Burda et al.
                 2016): each step draws b ~ Bernoulli(p / (L-1)) afresh; the decoder
                 gives one logit per pixel.  NLLs are in nats of binary images, the
                 numbers the VAE literature reports for MNIST.
    'logistic'   the L-level pixels themselves under a discretised logistic
                 (PixelCNN++); the decoder gives a location in [-1, 1] and a log-scale
                 per pixel.  For 8-bit colour images.
    'gaussian'   the intensities p / (L-1) under N(sigmoid(decoded), 1): minus half the
                 squared error, the reconstruction term of Su's clustering-VAE code (a
                 density, not nats of discrete pixels).

Encoders see the target in [0, 1] (the binary image, or the intensity p / (L-1),
``zoo.images.to_intensity``).
"""

import jax
import jax.numpy as jnp

from zoo import images
from zoo.distributions import bernoulli_log_prob, discretized_logistic_log_prob, gaussian_log_prob, sum_except_batch

LIKELIHOODS = ('bernoulli', 'logistic', 'gaussian')
PARAMS_PER_PIXEL = {'bernoulli': 1, 'logistic': 2, 'gaussian': 1}
MIN_LOG_SCALE = -7.0  # a floor on the logistic's log-scale, as in PixelCNN++'s code


def observe(key, pixels, num_levels: int, likelihood: str) -> jax.Array:
    """The observation x in [0, 1] the model explains: binarised, or pixels / (L-1)."""
    intensity = images.to_intensity(pixels, num_levels)
    if likelihood == 'bernoulli':
        return jax.random.bernoulli(key, intensity).astype(jnp.float32)
    return intensity


def log_likelihood(x, decoded, num_levels: int, likelihood: str) -> jax.Array:
    """log p(x|z) per example, summed over pixels, from the decoder's output ``decoded``."""
    if likelihood == 'bernoulli':
        return sum_except_batch(bernoulli_log_prob(x, decoded))
    if likelihood == 'gaussian':
        return sum_except_batch(gaussian_log_prob(x, jax.nn.sigmoid(decoded)))
    loc, log_scale = jnp.split(decoded, 2, axis=-1)
    pixels = images.intensity_to_pixels(x, num_levels).astype(jnp.int32)
    return sum_except_batch(
        discretized_logistic_log_prob(pixels, loc, jnp.maximum(log_scale, MIN_LOG_SCALE), num_levels)
    )


def mean_pixels(decoded, num_levels: int, likelihood: str) -> jax.Array:
    """The decoder's mean image as uint8 pixels in [0, L) (for sheets)."""
    if likelihood in ('bernoulli', 'gaussian'):
        intensity = jax.nn.sigmoid(decoded)
    else:
        intensity = (jnp.split(decoded, 2, axis=-1)[0] + 1.0) / 2.0  # the logistic's location is in [-1, 1]
    return images.intensity_to_pixels(intensity, num_levels)
