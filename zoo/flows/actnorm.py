"""Activation normalisation (Glow, Kingma & Dhariwal 2018, sec. 3.1)."""

import math
from typing import Literal

import flax.linen as nn
import jax.numpy as jnp


def actnorm_transform(x, bias, log_scale, inverse=False):
    """y = (x + b) * exp(log s) per channel; log-det = H * W * sum(log s).

    Inverse: x = y * exp(-log s) - b with the negated log-det.  ``x`` is (N, ..., C).
    """
    spatial = math.prod(x.shape[1:-1])
    log_det = jnp.full((x.shape[0],), spatial * jnp.sum(log_scale), x.dtype)
    if inverse:
        return x * jnp.exp(-log_scale) - bias, -log_det
    return (x + bias) * jnp.exp(log_scale), log_det


class ActNorm(nn.Module):
    """Per-channel affine layer with data-dependent initialisation.

    ``init_mode="data"``: at ``Module.init`` the bias and log-scale are set from the batch so
    that the output has zero mean and unit variance per channel (b = -mean,
    log s = -log(std + eps)); the batch must therefore be real data, and ``init`` must
    run the forward direction.  ``init_mode="zero"``: b = 0, log s = 0 (the identity).
    """

    init_mode: Literal['data', 'zero'] = 'data'
    eps: float = 1e-6

    @nn.compact
    def __call__(self, x, inverse=False, context=None):
        """The flow-layer contract: ``x -> (y, log_det)``, or with ``inverse=True`` ``y -> (x, log_det)``; one log-det
        per example. Here y = (x + b) * exp(log s) per channel.
        ``context`` is accepted for the uniform layer call and ignored.
        """
        channels = x.shape[-1]
        axes = tuple(range(x.ndim - 1))
        if self.init_mode == 'data':
            bias_init = lambda _: -jnp.mean(x, axes)
            logs_init = lambda _: -jnp.log(jnp.std(x, axes) + self.eps)
        elif self.init_mode == 'zero':
            bias_init = logs_init = lambda _: jnp.zeros((channels,), x.dtype)
        else:
            raise ValueError(f"unknown ActNorm init_mode {self.init_mode!r}; choose 'data' or 'zero'")
        bias = self.param('bias', bias_init)
        log_scale = self.param('log_scale', logs_init)
        return actnorm_transform(x, bias, log_scale, inverse)
