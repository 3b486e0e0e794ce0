"""Energy networks U_theta: x -> R, one value per example.

    ConvEnergy   images (N, H, W, C) in [0, 1]: strided 3x3 convs with swish, then dense
    MLPEnergy    points (N, D): dense layers with swish (the 2-D toy densities)

Swish (smooth, non-saturating) rather than ReLU: Langevin dynamics follow grad_x U,
which is piecewise constant through ReLUs (IGEBM uses swish for this reason).  With
``spectral_norm`` every weight is divided by its largest singular value in the forward
pass (Miyato et al. 2018, SPEC 4), which bounds U's Lipschitz constant and keeps the
energy landscape smooth enough for short chains (Du & Mordatch 2019, sec. 3.3).  The
power-iteration vectors live in the ``'spectral'`` variable collection: training
updates them (``update_stats=True``), a Langevin chain only reads them.
"""

from typing import Sequence

import flax.linen as nn


def _layer(module: nn.Module, x, spectral_norm: bool, update_stats: bool):
    """``module(x)``, spectrally normalised when asked."""
    if not spectral_norm:
        return module(x)
    raise ValueError('spectral_norm=True needs zoo.lipschitz (shared spectral normalisation), which this '
                     'branch does not have yet; use spectral_norm=False')


class ConvEnergy(nn.Module):
    """U(x) = dense(swish(dense(flatten(h)))), h = swish conv stack (first stride 1, then 2)."""
    features: Sequence[int] = (32, 64, 64)
    hidden: int = 128
    spectral_norm: bool = False

    @nn.compact
    def __call__(self, x, update_stats: bool = False):
        h = x
        for i, features in enumerate(self.features):
            conv = nn.Conv(features, (3, 3), strides=1 if i == 0 else 2, padding='SAME', name=f'conv_{i}')
            h = nn.swish(_layer(conv, h, self.spectral_norm, update_stats))
        h = h.reshape(h.shape[0], -1)
        h = nn.swish(_layer(nn.Dense(self.hidden, name='hidden'), h, self.spectral_norm, update_stats))
        return _layer(nn.Dense(1, name='out'), h, self.spectral_norm, update_stats)[:, 0]


class MLPEnergy(nn.Module):
    """U(x) = dense(swish(... swish(dense(x)))) for points x of shape (N, D)."""
    hidden: Sequence[int] = (128, 128, 128)
    spectral_norm: bool = False

    @nn.compact
    def __call__(self, x, update_stats: bool = False):
        h = x
        for i, width in enumerate(self.hidden):
            h = nn.swish(_layer(nn.Dense(width, name=f'dense_{i}'), h, self.spectral_norm, update_stats))
        return _layer(nn.Dense(1, name='out'), h, self.spectral_norm, update_stats)[:, 0]


def split_variables(variables: dict) -> tuple[dict, dict]:
    """Flax variables -> (params, the other collections), for TrainState.params / .aux."""
    variables = dict(variables)
    return variables.pop('params'), variables


def energy_fn(module: nn.Module, params, other: dict):
    """x -> U(x) with frozen power-iteration vectors: the energy a sampler differentiates."""
    return lambda x: module.apply({'params': params, **other}, x)
