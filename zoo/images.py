"""Between integer pixels and a flow's continuous space.

A pixel p in {0, ..., L-1} becomes x = (p + u) / L - 1/2 with u ~ U[0, 1)^D (uniform
dequantisation, Theis et al. 2016), so x lies in [-1/2, 1/2) as in Glow's code.  Each
pixel's bin has width 1/L in x, hence log P(p) >= E_u[log p(x)] - D log L.
"""

import jax
import jax.numpy as jnp
import numpy as np


def check_pixels(pixels, num_levels: int | None = None) -> None:
    """Raise unless ``pixels`` is an integer array with values in [0, num_levels).

    The dtype is always checked.  The values are checked where they are concrete
    (numpy arrays, or jax arrays outside ``jit``); inside ``jit`` they are not
    known, and pixels out of range give a finite but meaningless bits/dim, so
    check data before it enters a jitted step (``zoo.data`` yields valid pixels).
    """
    if not jnp.issubdtype(jnp.asarray(pixels).dtype, jnp.integer):
        raise TypeError(
            f'pixels must be an integer array in [0, num_levels), got dtype {pixels.dtype}; '
            'convert floats with zoo.images.to_pixels'
        )
    if num_levels is None or isinstance(pixels, jax.core.Tracer) or np.size(pixels) == 0:
        return
    values = np.asarray(pixels)  # np.min on a jax array would trace under jit
    low, high = int(values.min()), int(values.max())
    if low < 0 or high >= num_levels:
        raise ValueError(
            f'pixels must lie in [0, {num_levels}) for {num_levels} levels, got values in '
            f'[{low}, {high}]; is num_levels right for this dataset?'
        )


# --- The [-1, 1] range of GANs -----------------------------------------------------------------
# A GAN generator ends in tanh, so its pixels live in [-1, 1]: black at -1, white at exactly 1
# (DCGAN, Radford et al. 2016, sec. 4: "no pre-processing besides scaling to the range of tanh").


def to_signed(pixels: jax.Array, num_levels: int, dtype=jnp.float32) -> jax.Array:
    """x = 2 p / (L - 1) - 1 in [-1, 1]."""
    check_pixels(pixels, num_levels)
    return pixels.astype(dtype) * (2.0 / (num_levels - 1)) - 1.0


def signed_to_pixels(x: jax.Array, num_levels: int) -> jax.Array:
    """p = clip(round((x + 1) (L - 1) / 2), 0, L - 1) as uint8: the inverse of ``to_signed``."""
    p = jnp.round((x + 1.0) * (0.5 * (num_levels - 1)))
    return jnp.clip(p, 0, num_levels - 1).astype(jnp.uint8)


def dequantize(key: jax.Array, pixels: jax.Array, num_levels: int, dtype=jnp.float32) -> jax.Array:
    """x = (p + u) / L - 1/2, u ~ U[0, 1): a continuous point inside each pixel's bin."""
    check_pixels(pixels, num_levels)
    u = jax.random.uniform(key, pixels.shape, dtype)
    return (pixels.astype(dtype) + u) / num_levels - 0.5


def center(pixels: jax.Array, num_levels: int, dtype=jnp.float32) -> jax.Array:
    """x = (p + 1/2) / L - 1/2: the centre of each pixel's bin (deterministic encoding)."""
    check_pixels(pixels, num_levels)
    return (pixels.astype(dtype) + 0.5) / num_levels - 0.5


def to_pixels(x: jax.Array, num_levels: int) -> jax.Array:
    """p = clip(floor((x + 1/2) L), 0, L - 1) as uint8: the inverse of ``dequantize``."""
    p = jnp.floor((x + 0.5) * num_levels)
    return jnp.clip(p, 0, num_levels - 1).astype(jnp.uint8)


# --- The [0, 1] ranges of EBMs, GLO/GLANN, VAEs, VIB and InfoMax -------------------------------
# Two encodings, each with its decoder.  ``to_unit`` spreads pixel p over its bin
# [p/L, (p+1)/L) (a density model's view: IGEBM's [0, 1] images); ``to_intensity`` puts
# black at 0 and white at exactly 1 (a Bernoulli mean's view: the VAE literature's MNIST).


def to_unit(pixels: jax.Array, num_levels: int, key: jax.Array | None = None, dtype=jnp.float32) -> jax.Array:
    """x = (p + u) / L in [0, 1): u ~ U[0, 1) given ``key`` (dequantised), else u = 1/2 (bin centres)."""
    check_pixels(pixels, num_levels)
    u = 0.5 if key is None else jax.random.uniform(key, pixels.shape, dtype)
    return (pixels.astype(dtype) + u) / num_levels


def unit_to_pixels(x: jax.Array, num_levels: int) -> jax.Array:
    """p = clip(floor(x L), 0, L - 1) as uint8: the inverse of ``to_unit``."""
    return jnp.clip(jnp.floor(x * num_levels), 0, num_levels - 1).astype(jnp.uint8)


def to_intensity(pixels: jax.Array, num_levels: int, dtype=jnp.float32) -> jax.Array:
    """x = p / (L - 1) in [0, 1]: black 0, white 1 (Bernoulli means, encoders' inputs)."""
    check_pixels(pixels, num_levels)
    return pixels.astype(dtype) / (num_levels - 1)


def intensity_to_pixels(x: jax.Array, num_levels: int) -> jax.Array:
    """p = clip(round(x (L - 1)), 0, L - 1) as uint8: the inverse of ``to_intensity``."""
    return jnp.clip(jnp.round(x * (num_levels - 1)), 0, num_levels - 1).astype(jnp.uint8)
