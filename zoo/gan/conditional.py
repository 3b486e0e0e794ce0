"""Class-conditional GAN networks: a projection critic and a generator with class-conditional
batch normalisation.

    ProjectionCritic     f(x, y) = psi(phi(x)) + <V y, phi(x)>                (Miyato & Koyama 2018, eq. 3)
    ConditionalBatchNorm BN(h) * (gamma + G y) + (beta + B y)                  (de Vries et al. 2017;
                                                                                the generator of Miyato & Koyama)
    ConditionalDCGANGenerator   ``zoo.gan.nets.DCGANGenerator`` with every BN class-conditional

phi is the DCGAN critic's conv trunk (``zoo.gan.nets``), flattened as in ``DCGANCritic`` or
summed over positions (the paper's ResNet critics), psi a linear head and V the class
embedding (one row per class, y one-hot); with ``spectral=True`` every
layer, the embedding included, is spectrally normalised (SN-GAN, Miyato et al. 2018), the
combination of the projection-discriminator paper.  The critic's output is the usual score,
so every game of ``zoo.gan.games`` applies unchanged.
"""

from typing import Literal

import flax.linen as nn
import jax.numpy as jnp

from zoo.gan.nets import num_stages
from zoo.lipschitz import SpectralConv, SpectralDense


def _layer(spectral: bool, cls_spectral, cls_plain, *args, **kwargs):
    return cls_spectral(*args, **kwargs) if spectral else cls_plain(*args, **kwargs)


class ProjectionCritic(nn.Module):
    """(images (N, H, W, C), one-hot labels (N, K)) -> scores (N,).

    ``pool='flatten'`` (the default) reads phi(x) as the flattened feature map, as
    ``DCGANCritic`` does; ``pool='sum'`` sums it over positions, the paper's choice after a
    deep ResNet whose receptive field covers the image.  On small images the DCGAN trunk
    has one or two stride-2 stages (8x8 digits: one 4x4 conv, a 4x4 receptive field), so a
    sum leaves psi and the projection blind to where the strokes are: a linear function of
    the average local patch, which a generator of patch soups satisfies (RESULTS.md,
    "Conditional models").
    """

    channels: int = 64
    spectral: bool = True
    pool: Literal['flatten', 'sum'] = 'flatten'

    @nn.compact
    def __call__(self, x, y, update_stats: bool = False):
        """Projection score: psi(phi(x)) + <embed(y), phi(x)> (Miyato & Koyama 2018, eq. 3), shape (N,)."""
        kw = {'update_stats': update_stats} if self.spectral else {}
        for stage in range(num_stages(x.shape[1])):
            conv = _layer(self.spectral, SpectralConv, nn.Conv, self.channels * 2**stage, (4, 4), (2, 2))
            x = nn.leaky_relu(conv(x, **kw), 0.2)
        if self.pool not in ('flatten', 'sum'):
            raise ValueError(f"unknown pool {self.pool!r}; choose 'flatten' or 'sum'")
        phi = x.reshape(x.shape[0], -1) if self.pool == 'flatten' else jnp.sum(x, axis=(1, 2))
        psi = _layer(self.spectral, SpectralDense, nn.Dense, 1)(phi, **kw)[:, 0]
        embed = _layer(self.spectral, SpectralDense, nn.Dense, phi.shape[-1], use_bias=False)
        return psi + jnp.sum(embed(y.astype(phi.dtype), **kw) * phi, axis=-1)


class ConditionalBatchNorm(nn.Module):
    """Batch-statistics normalisation with a per-class scale and shift (gamma_y = 1 + G y, beta_y = B y)."""

    eps: float = 1e-5

    @nn.compact
    def __call__(self, x, y):
        """Normalise ``x`` by its batch statistics, then scale by gamma_y = 1 + G y and shift by beta_y = B y."""
        axes = tuple(range(x.ndim - 1))
        mean = jnp.mean(x, axes, keepdims=True)
        var = jnp.mean(jnp.square(x - mean), axes, keepdims=True)
        c = x.shape[-1]
        gamma = 1.0 + nn.Dense(c, use_bias=False, kernel_init=nn.initializers.zeros, name='scale')(y)
        beta = nn.Dense(c, use_bias=False, kernel_init=nn.initializers.zeros, name='bias')(y)
        shape = (x.shape[0],) + (1,) * (x.ndim - 2) + (c,)
        return (x - mean) / jnp.sqrt(var + self.eps) * gamma.reshape(shape) + beta.reshape(shape)


class ConditionalDCGANGenerator(nn.Module):
    """(z (N, latent), one-hot y (N, K)) -> images (N, H, W, C) in [-1, 1]."""

    image_shape: tuple
    channels: int = 64

    @nn.compact
    def __call__(self, z, y):
        """(z (N, latent), one-hot y (N, K)) -> images (N, H, W, C) in [-1, 1]."""
        height, width, out_channels = self.image_shape
        k = num_stages(height)
        s_h, s_w = height // 2**k, width // 2**k
        x = nn.Dense(s_h * s_w * self.channels * 2 ** (k - 1), use_bias=False)(z).reshape(z.shape[0], s_h, s_w, -1)
        for stage in reversed(range(k)):
            x = nn.relu(ConditionalBatchNorm()(x, y))
            x = nn.ConvTranspose(self.channels * 2 ** max(stage - 1, 0), (4, 4), (2, 2), use_bias=False)(x)
        x = nn.relu(ConditionalBatchNorm()(x, y))
        return jnp.tanh(nn.Conv(out_channels, (3, 3))(x))
