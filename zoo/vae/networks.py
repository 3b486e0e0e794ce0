"""Encoders and decoders of the VAE family: an MLP (Flax's VAE example, 784-500-20) and a
small conv net.  Modules hold parameters only; the losses live in ``elbo`` / ``iwae``.

An encoder maps images (N, H, W, C) in [0, 1] to the posterior's (mean, log_scale),
each (N, latents); a decoder maps codes (N, latents) to per-pixel distribution
parameters (N, H, W, C * params_per_pixel).
"""

import math

import flax.linen as nn
import jax.numpy as jnp


class MLPEncoder(nn.Module):
    """x -> Dense(hidden) -> relu -> Dense(2 * latents) -> (mean, log_scale)."""

    latents: int = 20
    hidden: int = 500

    @nn.compact
    def __call__(self, x):
        """q(z|x): (mean, log_scale), each (N, latents), from Dense(hidden, relu)."""
        h = nn.relu(nn.Dense(self.hidden)(x.reshape(x.shape[0], -1)))
        mean, log_scale = jnp.split(nn.Dense(2 * self.latents)(h), 2, axis=-1)
        return mean, log_scale


class MLPDecoder(nn.Module):
    """z -> Dense(hidden) -> relu -> Dense(H * W * C * k), reshaped to (H, W, C * k)."""

    output_shape: tuple
    hidden: int = 500

    @nn.compact
    def __call__(self, z):
        """The decoder's per-pixel parameters (N, H, W, C * k) from z."""
        h = nn.relu(nn.Dense(self.hidden)(z))
        return nn.Dense(math.prod(self.output_shape))(h).reshape(z.shape[0], *self.output_shape)


class ConvEncoder(nn.Module):
    """Two stride-2 3x3 convs (relu), then the MLP head: (mean, log_scale)."""

    latents: int = 20
    hidden: int = 256
    channels: tuple = (32, 64)

    @nn.compact
    def __call__(self, x):
        """q(z|x): (mean, log_scale) after two stride-2 convs and the MLP head."""
        for width in self.channels:
            x = nn.relu(nn.Conv(width, (3, 3), strides=(2, 2))(x))
        return MLPEncoder(self.latents, self.hidden)(x)


class ConvDecoder(nn.Module):
    """The encoder's mirror: Dense to an (H/4, W/4) map, then stride-2 transposed convs."""

    output_shape: tuple
    hidden: int = 256
    channels: tuple = (32, 64)

    @nn.compact
    def __call__(self, z):
        """The decoder's per-pixel parameters (N, H, W, C * k) from z, through transposed convs."""
        height, width, out_channels = self.output_shape
        factor = 2 ** len(self.channels)
        if height % factor or width % factor:
            raise ValueError(f'conv VAE needs image sides divisible by {factor}, got {height}x{width}')
        base = (height // factor, width // factor, self.channels[-1])
        h = nn.relu(nn.Dense(self.hidden)(z))
        h = nn.relu(nn.Dense(math.prod(base))(h)).reshape(z.shape[0], *base)
        for channels in reversed(self.channels[:-1]):
            h = nn.relu(nn.ConvTranspose(channels, (3, 3), strides=(2, 2))(h))
        return nn.ConvTranspose(out_channels, (3, 3), strides=(2, 2))(h)


class VAE(nn.Module):
    """An encoder and a decoder; ``__call__`` touches both so ``init`` creates every parameter."""

    image_shape: tuple
    params_per_pixel: int = 1
    architecture: str = 'mlp'
    latents: int = 20
    hidden: int = 500
    channels: tuple = (32, 64)

    def setup(self):
        """Flax ``setup``: builds the layers the class docstring lists."""
        height, width, channels = self.image_shape
        output_shape = (height, width, channels * self.params_per_pixel)
        if self.architecture == 'mlp':
            self.encoder = MLPEncoder(self.latents, self.hidden)
            self.decoder = MLPDecoder(output_shape, self.hidden)
        elif self.architecture == 'conv':
            self.encoder = ConvEncoder(self.latents, self.hidden, tuple(self.channels))
            self.decoder = ConvDecoder(output_shape, self.hidden, tuple(self.channels))
        else:
            raise ValueError(f"unknown architecture {self.architecture!r}; use 'mlp' or 'conv'")

    def __call__(self, x):
        """Decodes the posterior mean: every parameter touched once, for init."""
        mean, _ = self.encoder(x)
        return self.decoder(mean)

    def encode(self, x):
        """q(z|x): (mean, log_scale)."""
        return self.encoder(x)

    def decode(self, z):
        """p(x|z)'s per-pixel parameters."""
        return self.decoder(z)
