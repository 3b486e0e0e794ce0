"""Between integer pixels and a flow's continuous space.

A pixel p in {0, ..., L-1} becomes x = (p + u) / L - 1/2 with u ~ U[0, 1)^D (uniform
dequantisation, Theis et al. 2016), so x lies in [-1/2, 1/2) as in Glow's code.  Each
pixel's bin has width 1/L in x, hence log P(p) >= E_u[log p(x)] - D log L.
"""

import jax
import jax.numpy as jnp


def check_pixels(pixels) -> None:
    """Raise a TypeError unless ``pixels`` has an integer dtype."""
    if not jnp.issubdtype(jnp.asarray(pixels).dtype, jnp.integer):
        raise TypeError(
            f"pixels must be an integer array in [0, num_levels), got dtype {pixels.dtype}; "
            "convert floats with zoo.images.to_pixels")


def dequantize(key: jax.Array, pixels: jax.Array, num_levels: int, dtype=jnp.float32) -> jax.Array:
    """x = (p + u) / L - 1/2, u ~ U[0, 1): a continuous point inside each pixel's bin."""
    check_pixels(pixels)
    u = jax.random.uniform(key, pixels.shape, dtype)
    return (pixels.astype(dtype) + u) / num_levels - 0.5


def center(pixels: jax.Array, num_levels: int, dtype=jnp.float32) -> jax.Array:
    """x = (p + 1/2) / L - 1/2: the centre of each pixel's bin (deterministic encoding)."""
    check_pixels(pixels)
    return (pixels.astype(dtype) + 0.5) / num_levels - 0.5


def to_pixels(x: jax.Array, num_levels: int) -> jax.Array:
    """p = clip(floor((x + 1/2) L), 0, L - 1) as uint8: the inverse of ``dequantize``."""
    p = jnp.floor((x + 0.5) * num_levels)
    return jnp.clip(p, 0, num_levels - 1).astype(jnp.uint8)
