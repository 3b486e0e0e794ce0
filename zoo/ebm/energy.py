"""Energy networks U_theta: x -> R, one value per example.

    ConvEnergy   images (N, H, W, C) in [0, 1]: strided 3x3 convs with swish, then dense
    MLPEnergy    points (N, D): dense layers with swish (the 2-D toy densities)

Swish (smooth, non-saturating) rather than ReLU: Langevin dynamics follow grad_x U,
which is piecewise constant through ReLUs (IGEBM uses swish for this reason).  With
``spectral_norm`` every weight is divided by its largest singular value in the forward
pass (Miyato et al. 2018, "Spectral Normalization for Generative Adversarial Networks",
sec. 2.1; ``zoo.lipschitz``), which bounds U's Lipschitz constant and keeps the energy
landscape smooth enough for short chains (Du & Mordatch 2019, sec. 3.3).  The
power-iteration vectors live in the ``'spectral'`` variable collection: training
updates them (``update_stats=True``), a Langevin chain only reads them.

On the small-image configs spectral normalisation (c = 1) left the energy nearly flat
(data and noise 0.006 apart after 800 digits steps) and its chains gave blobs; those
configs train without it, as short-run EBMs do (Nijkamp et al. 2019), and
``experiments/configs/ebm.py`` lists what was measured.  ``strides`` sets each conv's
downsampling: stride 2 from the first conv makes 32x32 images about 4x cheaper.
"""

from collections.abc import Sequence

import flax.linen as nn

from zoo.lipschitz import SpectralConv, SpectralDense


def _conv(features: int, strides: int, spectral_norm: bool, name: str, coeff: float = 1.0) -> nn.Module:
    if spectral_norm:
        return SpectralConv(features, (3, 3), strides=(strides, strides), coeff=coeff, name=name)
    return nn.Conv(features, (3, 3), strides=strides, padding='SAME', name=name)


def _dense(features: int, spectral_norm: bool, name: str, coeff: float = 1.0) -> nn.Module:
    return SpectralDense(features, coeff=coeff, name=name) if spectral_norm else nn.Dense(features, name=name)


def _call(layer: nn.Module, x, update_stats: bool):
    """Spectral layers take ``update_stats``; plain Flax layers do not."""
    return layer(x, update_stats) if isinstance(layer, (SpectralConv, SpectralDense)) else layer(x)


class ConvEnergy(nn.Module):
    """U(x) = dense(swish(dense(flatten(h)))), h = swish conv stack (first stride 1, then 2).

    ``layer_lipschitz`` is each normalised layer's bound c (sigma(W_hat) = c): the product
    over layers bounds U's Lipschitz constant.  c = 1 is SN-GAN's choice; an energy with
    c = 1 can be too flat for short chains on small images, because swish halves slopes
    near 0 and random layers rarely align with each other's top singular vectors.
    """

    features: Sequence[int] = (32, 64, 64)
    hidden: int = 128
    spectral_norm: bool = True
    layer_lipschitz: float = 1.0
    strides: Sequence[int] | None = None  # per conv; None: 1 for the first, then 2

    @nn.compact
    def __call__(self, x, update_stats: bool = False):
        """E(x): one energy per image, shape (N,); ``update_stats`` advances the power-iteration vectors."""
        h = x
        strides = self.strides if self.strides is not None else [1] + [2] * (len(self.features) - 1)
        if len(strides) != len(self.features):
            raise ValueError(f'need one stride per conv: {len(self.features)} features, strides {tuple(strides)}')
        for i, (features, stride) in enumerate(zip(self.features, strides)):
            conv = _conv(features, stride, self.spectral_norm, f'conv_{i}', self.layer_lipschitz)
            h = nn.swish(_call(conv, h, update_stats))
        h = h.reshape(h.shape[0], -1)
        h = nn.swish(_call(_dense(self.hidden, self.spectral_norm, 'hidden', self.layer_lipschitz), h, update_stats))
        return _call(_dense(1, self.spectral_norm, 'out', self.layer_lipschitz), h, update_stats)[:, 0]


class MLPEnergy(nn.Module):
    """U(x) = dense(swish(... swish(dense(x)))) for points x of shape (N, D)."""

    hidden: Sequence[int] = (128, 128, 128)
    spectral_norm: bool = False

    @nn.compact
    def __call__(self, x, update_stats: bool = False):
        """E(x): one energy per point, shape (N,); ``update_stats`` advances the power-iteration vectors."""
        h = x
        for i, width in enumerate(self.hidden):
            h = nn.swish(_call(_dense(width, self.spectral_norm, f'dense_{i}'), h, update_stats))
        return _call(_dense(1, self.spectral_norm, 'out'), h, update_stats)[:, 0]
