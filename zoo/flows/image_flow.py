"""What every image flow offers, given a bijection from images to a list of latents.

A subclass implements ``forward(x) -> (latents, log_det)`` and
``inverse(latents) -> (x, log_det)`` and the property ``latent_shapes``; the latents
are distributed as the standard ``prior`` ('gaussian' or 'logistic').  Then

    log p(x) = sum_i log p_prior(z_i) + log|det dz/dx|          (change of variables)

and bits/dim follow from ``zoo.metrics.bits_per_dim``.
"""

import math

import flax.linen as nn
import jax
import jax.numpy as jnp

from zoo import images, metrics
from zoo.distributions import get_prior, sum_except_batch


class ImageFlow(nn.Module):
    """Base class: ``image_shape`` (H, W, C), ``num_levels`` gray levels, latent ``prior``."""

    image_shape: tuple = (8, 8, 1)
    num_levels: int = 256
    prior: str = "gaussian"

    def __post_init__(self):
        if len(self.image_shape) != 3 or min(self.image_shape) < 1:
            raise ValueError(f"image_shape must be (height, width, channels), got {self.image_shape}")
        get_prior(self.prior)  # fails early on an unknown prior
        super().__post_init__()

    @property
    def num_dims(self) -> int:
        return math.prod(self.image_shape)

    @property
    def latent_shapes(self) -> list:
        raise NotImplementedError

    def forward(self, x):
        raise NotImplementedError

    def inverse(self, latents):
        raise NotImplementedError

    def __call__(self, x, inverse=False):
        """Encode ``x -> (latents, log_det)``, or with ``inverse=True`` decode ``latents -> (x, log_det)``."""
        if inverse:
            _check_latents(x, self.latent_shapes)
            return self.inverse(list(x))
        _check_images(x, self.image_shape)
        return self.forward(x)

    def encode(self, x):
        """x (N, H, W, C) float -> (list of latents, log|det dz/dx| per example)."""
        return self(x)

    def decode(self, latents):
        """List of latents -> x (N, H, W, C)."""
        return self(latents, inverse=True)[0]

    def log_prob(self, x):
        """log p(x) in nats per example, for continuous x in flow space."""
        log_prior, _ = get_prior(self.prior)
        latents, log_det = self(x)
        return sum(sum_except_batch(log_prior(z)) for z in latents) + log_det

    def bits_per_dim(self, pixels, key):
        """Bits/dim of integer ``pixels`` in [0, num_levels) under uniform dequantisation with ``key``."""
        x = images.dequantize(key, pixels, self.num_levels)
        return metrics.bits_per_dim(self.log_prob(x), self.num_dims, self.num_levels)

    def sample(self, key, n: int, temperature: float = 1.0):
        """n samples in flow space: latents from the prior at ``temperature``, decoded.

        Temperature 0 decodes the prior's mode (all latents zero).
        """
        _, sample_prior = get_prior(self.prior)
        keys = jax.random.split(key, len(self.latent_shapes))
        latents = [sample_prior(k, (n, *s), temperature) for k, s in zip(keys, self.latent_shapes)]
        return self.decode(latents)


def _check_images(x, image_shape):
    if not hasattr(x, "ndim") or x.ndim != 4 or tuple(x.shape[1:]) != tuple(image_shape):
        shape = getattr(x, "shape", type(x).__name__)
        raise ValueError(f"expected images of shape (batch, {', '.join(map(str, image_shape))}), "
                         f"got {shape}")
    if not jnp.issubdtype(x.dtype, jnp.floating):
        raise TypeError(f"expected floating-point images in flow space, got dtype {x.dtype}; "
                        "integer pixels go through zoo.images.dequantize first")


def _check_latents(latents, shapes):
    if not isinstance(latents, (list, tuple)) or len(latents) != len(shapes):
        raise ValueError(f"expected a list of {len(shapes)} latents with shapes "
                         f"{[('batch', *s) for s in shapes]}, got {type(latents).__name__}"
                         + (f" of length {len(latents)}" if isinstance(latents, (list, tuple)) else ""))
    for i, (z, s) in enumerate(zip(latents, shapes)):
        if z.ndim != len(s) + 1 or tuple(z.shape[1:]) != tuple(s):
            raise ValueError(f"latent {i} should have shape (batch, {', '.join(map(str, s))}), got {z.shape}")
