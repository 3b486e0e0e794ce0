"""Composing flow layers: a plain chain, and K identical steps scanned over stacked parameters."""

from typing import Any, Sequence

import flax.linen as nn
import jax.numpy as jnp


def run_chain(layers, x, inverse=False):
    """f = f_K o ... o f_1; log-det = sum_k log|det J_k|.  The inverse runs the layers backwards."""
    log_det = jnp.zeros(x.shape[0], x.dtype)
    for layer in (reversed(layers) if inverse else layers):
        x, ld = layer(x, inverse=inverse)
        log_det = log_det + ld
    return x, log_det


class Chain(nn.Module):
    """A sequence of flow layers, each ``x -> (y, log_det)`` with an ``inverse`` flag."""

    layers: Sequence[nn.Module]

    def __call__(self, x, inverse=False):
        return run_chain(self.layers, x, inverse)


class _ScanBody(nn.Module):
    step: Any
    step_kwargs: Any
    inverse: bool

    @nn.compact
    def __call__(self, carry, _):
        x, log_det = carry
        y, ld = self.step(**self.step_kwargs, name="step")(x, inverse=self.inverse)
        return (y, log_det + ld), None


class ScannedChain(nn.Module):
    """``length`` copies of the flow step ``step(**step_kwargs)`` run by ``nn.scan``.

    The parameters of all copies are stacked on a leading axis, so the step is traced
    and compiled once whatever the depth.  The inverse scans in reverse order over the
    same stacked parameters.  At ``init`` each copy is initialised on its real input
    (the carry), so data-dependent initialisation (ActNorm) sees every step's input.
    """

    step: Any
    step_kwargs: Any
    length: int

    @nn.compact
    def __call__(self, x, inverse=False):
        body = nn.scan(_ScanBody, variable_axes={"params": 0, "constants": 0},
                       split_rngs={"params": True}, length=self.length, reverse=inverse)
        carry = (x, jnp.zeros(x.shape[0], x.dtype))
        (y, log_det), _ = body(self.step, self.step_kwargs, inverse, name="scan")(carry, None)
        return y, log_det
