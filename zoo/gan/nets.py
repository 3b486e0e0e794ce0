"""Generator and critic networks: DCGAN-style convnets for images, MLPs for 2-D points.

    DCGANGenerator  z -> Dense to (s0, s0, 2^k c) -> k x [ConvTranspose 4x4 stride 2, BN, ReLU] -> conv, tanh
    DCGANCritic     x -> k x [Conv 4x4 stride 2, LeakyReLU 0.2] -> Dense(out_features)
    MLPGenerator / MLPCritic   for points and small images; MLPGenerator is also GLANN's
                               generator and latent mapper (``zoo.imle``): keep its fields stable

(Radford et al. 2016.)  The number k of stride-2 stages is the largest with H
divisible by 2^k and H / 2^k >= 4: 8x8 digits take one (4 -> 8), 28x28 MNIST two
(7 -> 14 -> 28), 32x32 three, 64x64 four, so one definition covers every dataset.

Critics can be spectrally normalised (``zoo.lipschitz``; SN-GAN, Miyato et al.
2018): layers then read their power-iteration vectors from the 'spectral'
collection and update them when called with ``update_stats=True``.  Critics have
no batch normalisation, so a gradient penalty sees each example's own gradient;
the generator's batch normalisation always uses the batch's statistics (no
running averages to carry), the usual practice when sampling GANs in batches.
"""

import flax.linen as nn
import jax.numpy as jnp

from zoo.lipschitz import SpectralConv, SpectralDense


def num_stages(height: int) -> int:
    """The largest k >= 1 with height divisible by 2^k and height / 2^k >= 4."""
    k = 0
    while height % 2 ** (k + 1) == 0 and height // 2 ** (k + 1) >= 4:
        k += 1
    if k == 0:
        raise ValueError(
            f'DCGAN nets need an even image height of at least 8, got {height}; pad the images or use the MLP nets'
        )
    return k


class BatchStatsNorm(nn.Module):
    """y = (x - mean) / sqrt(var + eps) * gamma + beta with the batch's per-channel statistics."""

    eps: float = 1e-5

    @nn.compact
    def __call__(self, x):
        """(x - mean) / sqrt(var + eps) * gamma + beta with the batch's own statistics (no running averages)."""
        axes = tuple(range(x.ndim - 1))
        mean = jnp.mean(x, axes, keepdims=True)
        var = jnp.mean(jnp.square(x - mean), axes, keepdims=True)
        gamma = self.param('scale', nn.initializers.ones, (x.shape[-1],))
        beta = self.param('bias', nn.initializers.zeros, (x.shape[-1],))
        return (x - mean) / jnp.sqrt(var + self.eps) * gamma + beta


def _dense(spectral: bool, features: int):
    return SpectralDense(features) if spectral else nn.Dense(features)


def _call(layer, x, update_stats):
    return layer(x, update_stats=update_stats) if isinstance(layer, (SpectralDense, SpectralConv)) else layer(x)


class DCGANGenerator(nn.Module):
    """z (N, latent) -> images (N, H, W, C) in [-1, 1]; ``channels`` is the width of the last stage."""

    image_shape: tuple
    channels: int = 64
    batch_norm: bool = True

    @nn.compact
    def __call__(self, z):
        """G(z): Dense to a small map, stride-2 transposed convs up to ``image_shape``, tanh; (N, H, W, C)."""
        height, width, out_channels = self.image_shape
        k = num_stages(height)
        s_h, s_w = height // 2**k, width // 2**k
        # A bias right before batch normalisation is cancelled by it (zero gradient): none there.
        bias = not self.batch_norm
        x = nn.Dense(s_h * s_w * self.channels * 2 ** (k - 1), use_bias=bias)(z).reshape(z.shape[0], s_h, s_w, -1)
        for stage in reversed(range(k)):
            x = nn.relu(BatchStatsNorm()(x) if self.batch_norm else x)
            x = nn.ConvTranspose(self.channels * 2 ** max(stage - 1, 0), (4, 4), (2, 2), use_bias=bias)(x)
        x = nn.relu(BatchStatsNorm()(x) if self.batch_norm else x)
        return jnp.tanh(nn.Conv(out_channels, (3, 3))(x))


class DCGANCritic(nn.Module):
    """images (N, H, W, C) -> (N, out_features): one score (out_features=1, squeezed) or O-GAN's code."""

    channels: int = 64
    out_features: int = 1
    spectral: bool = False

    @nn.compact
    def __call__(self, x, update_stats: bool = False):
        """D(x): stride-2 convs with leaky relu, then Dense; (N,) scores or (N, out_features)."""
        k = num_stages(x.shape[1])
        for stage in range(k):
            conv = (SpectralConv if self.spectral else nn.Conv)(self.channels * 2**stage, (4, 4), (2, 2))
            x = nn.leaky_relu(_call(conv, x, update_stats), 0.2)
        out = _call(_dense(self.spectral, self.out_features), x.reshape(x.shape[0], -1), update_stats)
        return out[:, 0] if self.out_features == 1 else out


class MLPGenerator(nn.Module):
    """z (N, latent) -> (N, out_dim), ``depth`` hidden ReLU layers of width ``hidden``; tanh output for pixels.

    ``output_std`` s (None: off) standardises the output at initialisation, ActNorm's
    data-dependent initialisation (Kingma & Dhariwal 2018, sec. 3.1) on the batch of latents
    ``init`` sees: G(z) = (Dense(h(z)) - m) * a with m the batch mean and a = s / batch std,
    both then trained.  Left alone, the first samples have a spread of about 0.35 (LeCun-normal
    layers halve the second moment at each ReLU) around an offset of the same order (the mean
    of the ReLU features); an f-GAN whose generator gradient (p/q) grad T vanishes where p ~ 0
    needs its first samples centred on the data and spread over it (``experiments.fgan_2d``).
    """

    out_dim: int = 2
    hidden: int = 128
    depth: int = 3
    output_tanh: bool = False
    output_std: float | None = None

    @nn.compact
    def __call__(self, z):
        """G(z) = Dense(out_dim) after ``depth`` relu layers, standardised if asked; tanh on the output if asked."""
        for _ in range(self.depth):
            z = nn.relu(nn.Dense(self.hidden)(z))
        x = nn.Dense(self.out_dim)(z)
        if self.output_std is not None:
            # Initialisers that read this first batch: used by ``init`` only, stored after.
            mean = self.param('output_mean', lambda _: jnp.mean(x, axis=0))
            scale = self.param('output_scale', lambda _: self.output_std / (jnp.std(x, axis=0) + 1e-6))
            x = (x - mean) * scale
        return jnp.tanh(x) if self.output_tanh else x


class MLPCritic(nn.Module):
    """points (N, d) -> (N,) scores or (N, out_features) codes; LeakyReLU hidden layers."""

    hidden: int = 128
    depth: int = 3
    out_features: int = 1
    spectral: bool = False

    @nn.compact
    def __call__(self, x, update_stats: bool = False):
        """D(x): ``depth`` leaky-relu Dense layers (spectrally normalised if asked), then Dense; (N,) scores."""
        x = x.reshape(x.shape[0], -1)
        for _ in range(self.depth):
            x = nn.leaky_relu(_call(_dense(self.spectral, self.hidden), x, update_stats), 0.2)
        out = _call(_dense(self.spectral, self.out_features), x, update_stats)
        return out[:, 0] if self.out_features == 1 else out
