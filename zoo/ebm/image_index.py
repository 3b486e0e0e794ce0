"""Which training image is this?  GLO keeps one latent per training image, and batches carry
pixels, not row numbers; an index of the training set's pixel hashes finds the row.

    h(p) = sum_k w_k (p_k + 1)  mod 2^32,   w_k fixed random odd 32-bit integers

The same arithmetic in numpy (building the index) and in JAX (inside the jitted step),
both wrapping at 2^32.  Distinct images collide with probability about 2^-32 per pair;
identical images share a row, which is what GLO would learn for them anyway.
"""

import jax
import jax.numpy as jnp
import numpy as np

_HASH_SEED = 20190501


def _weights(num_dims: int) -> np.ndarray:
    rng = np.random.default_rng(_HASH_SEED)
    return (rng.integers(0, 2 ** 31, num_dims, dtype=np.uint64) * 2 + 1).astype(np.uint32)


def pixel_hashes(pixels, xp=jnp):
    """(N,) uint32 hashes of integer images (N, ...), with ``xp`` = jax.numpy or numpy."""
    flat = xp.asarray(pixels).reshape(pixels.shape[0], -1).astype(xp.uint32) + xp.uint32(1)
    return xp.sum(flat * xp.asarray(_weights(flat.shape[1])), axis=1, dtype=xp.uint32)


class ImageIndex:
    """Row lookup for the images of a training set (host-built, used inside jit)."""

    def __init__(self, images: np.ndarray):
        images = np.asarray(images)
        if images.ndim != 4 or not np.issubdtype(images.dtype, np.integer):
            raise ValueError(f'ImageIndex needs integer images (N, H, W, C), got {images.dtype} {images.shape}')
        hashes = pixel_hashes(images, np)
        self.order = np.argsort(hashes, kind='stable').astype(np.int32)
        self.sorted_hashes = hashes[self.order]
        self.size = len(images)

    def lookup(self, pixels: jax.Array) -> tuple[jax.Array, jax.Array]:
        """(rows, found): each image's row in the training set, and whether it is there at all."""
        h = pixel_hashes(pixels, jnp)
        sorted_hashes = jnp.asarray(self.sorted_hashes)
        position = jnp.clip(jnp.searchsorted(sorted_hashes, h), 0, self.size - 1)
        return jnp.asarray(self.order)[position], sorted_hashes[position] == h
