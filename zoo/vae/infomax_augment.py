"""Class-preserving views of images for Deep InfoMax with two views (Bachman et al. 2019,
"Learning representations by maximizing mutual information across views", AMDIM, sec. 3).

A view is a small random affine warp of the image about its centre, resampled bilinearly:

    x'(p) = x(c + A^{-1} (p - c - t)),   A = s R(theta)

with the rotation theta ~ U[-rotation, rotation] (degrees), the scale s = exp(u), u ~ U[-log(1 + scale),
log(1 + scale)], and the translation t ~ U[-shift, shift]^2 (pixels).  Points that fall outside the
image read 0 (the background of digit images).  Bilinear resampling takes convex combinations of
pixels and zeros, so intensities in [0, 1] stay in [0, 1]; a sub-pixel shift blurs rather than
jumps, which is what an 8x8 image, where one pixel is an eighth of the digit, needs.
"""

import jax
import jax.numpy as jnp
from jax.scipy.ndimage import map_coordinates


def affine_matrices(key: jax.Array, n: int, rotation: float, scale: float, shift: float):
    """(A (n, 2, 2), t (n, 2)): random rotation-scale matrices and translations, as the module docstring."""
    angle_key, scale_key, shift_key = jax.random.split(key, 3)
    theta = jnp.deg2rad(rotation) * jax.random.uniform(angle_key, (n,), minval=-1.0, maxval=1.0)
    log_s = jnp.log1p(scale) * jax.random.uniform(scale_key, (n,), minval=-1.0, maxval=1.0)
    s = jnp.exp(log_s)
    cos, sin = s * jnp.cos(theta), s * jnp.sin(theta)
    a = jnp.stack([jnp.stack([cos, -sin], -1), jnp.stack([sin, cos], -1)], -2)
    t = shift * jax.random.uniform(shift_key, (n, 2), minval=-1.0, maxval=1.0)
    return a, t


def warp(images: jax.Array, a: jax.Array, t: jax.Array) -> jax.Array:
    """x'(p) = x(c + A^{-1} (p - c - t)) for (N, H, W, C) images, bilinear, zero outside."""
    n, height, width, channels = images.shape
    centre = jnp.array([(height - 1) / 2, (width - 1) / 2])
    grid = jnp.stack(jnp.meshgrid(jnp.arange(height), jnp.arange(width), indexing='ij'), -1).reshape(-1, 2)

    def one(image, a, t):
        source = centre + (grid - centre - t) @ jnp.linalg.inv(a).T  # (H W, 2) points of x read for x'
        sample = lambda plane: map_coordinates(plane, [source[:, 0], source[:, 1]], order=1, cval=0.0)
        return jax.vmap(sample, in_axes=-1, out_axes=-1)(image).reshape(height, width, channels)

    return jax.vmap(one)(images, a, t)


def random_view(key: jax.Array, images: jax.Array, rotation: float, scale: float, shift: float) -> jax.Array:
    """One random affine view of each image of (N, H, W, C) ``images``: a pure function of ``key``."""
    if images.ndim != 4:
        raise ValueError(f'images must be (N, H, W, C), got shape {images.shape}')
    a, t = affine_matrices(key, images.shape[0], rotation, scale, shift)
    return warp(images, a.astype(images.dtype), t.astype(images.dtype))
