"""Conditioner networks for couplings and learned priors.

These are ordinary (non-invertible) networks: they produce shifts and scales.
``dtype`` is the compute dtype of their convolutions and matmuls (e.g. ``jnp.bfloat16``
for mixed precision); parameters stay float32 and the output is returned in the
input's dtype, so log-dets and losses are accumulated at full precision.
"""

from typing import Any

import flax.linen as nn
import jax.numpy as jnp


class ZeroConv(nn.Module):
    """Glow's Conv2dZeros: y = conv(x) * exp(3 * logs), kernel, bias and logs zero-initialised.

    Zero output at init makes each coupling (and each learned prior) start as the
    identity (Kingma & Dhariwal 2018, sec. 3.3); the exp(3 logs) gain lets the output
    grow quickly once training starts.
    """

    features: int
    kernel_size: tuple = (3, 3)
    dtype: Any = None

    @nn.compact
    def __call__(self, x):
        y = nn.Conv(self.features, self.kernel_size, padding="SAME",
                    kernel_init=nn.initializers.zeros, dtype=self.dtype, name="conv")(x)
        logs = self.param("logs", nn.initializers.zeros, (self.features,))
        if self.dtype is not None:  # mixed precision: back to the parameters' precision
            y = y.astype(logs.dtype)
        return y * jnp.exp(3.0 * logs)


class ConvNet(nn.Module):
    """Glow's coupling network: conv3x3(hidden) relu, conv1x1(hidden) relu, ZeroConv3x3(out)."""

    hidden: int
    features: int
    dtype: Any = None

    @nn.compact
    def __call__(self, x):
        x = nn.relu(nn.Conv(self.hidden, (3, 3), padding="SAME", dtype=self.dtype)(x))
        x = nn.relu(nn.Conv(self.hidden, (1, 1), dtype=self.dtype)(x))
        return ZeroConv(self.features, dtype=self.dtype)(x)


class MLP(nn.Module):
    """NICE's coupling network: ``depth`` x Dense(hidden, relu), then a zero-initialised Dense."""

    hidden: int
    features: int
    depth: int = 5

    @nn.compact
    def __call__(self, x):
        for _ in range(self.depth):
            x = nn.relu(nn.Dense(self.hidden)(x))
        return nn.Dense(self.features, kernel_init=nn.initializers.zeros)(x)
