"""The logit input layer (Dinh et al. 2017, RealNVP sec. 4.1; Papamakarios et al. 2017, MAF sec. 4.2)."""

import math

import flax.linen as nn
import jax
import jax.numpy as jnp

from zoo.distributions import sum_except_batch


def logit_transform(x, alpha: float, inverse=False):
    """y = logit(s), s = alpha + (1 - 2 alpha)(x + 1/2), elementwise, for x in [-1/2, 1/2).

    log|det dy/dx| = sum log(1 - 2 alpha) - log s - log(1 - s), with log s = log sigmoid(y)
    and log(1 - s) = log sigmoid(-y).  Inverse: x = (sigmoid(y) - alpha) / (1 - 2 alpha) - 1/2.

    It stretches each dequantisation bin by 1/(s(1 - s)): a bin at the saturated ends,
    1/L wide in x, becomes about one unit wide in y for small alpha (alpha = 1e-6, L = 256:
    [0, 1/256) in x + 1/2 maps to [-13.8, -5.5)), so a flow no longer has to fit a density
    that is constant on a 1/256-wide box, which is what made MNIST's empty background so sharp
    in the parameters (see ``experiments/configs/glow.py mnist32``).
    """
    scale = 1.0 - 2.0 * alpha
    if inverse:
        log_s, log_1ms = jax.nn.log_sigmoid(x), jax.nn.log_sigmoid(-x)
        out = (jax.nn.sigmoid(x) - alpha) / scale - 0.5
    else:
        s = alpha + scale * (x + 0.5)
        log_s, log_1ms = jnp.log(s), jnp.log1p(-s)
        out = log_s - log_1ms
    log_det = sum_except_batch(math.log(scale) - log_s - log_1ms)
    return out, -log_det if inverse else log_det


class Logit(nn.Module):
    """``logit_transform`` as a layer (no parameters); alpha in [1e-7, 1/2)."""

    alpha: float = 1e-6

    def __post_init__(self):
        check_alpha(self.alpha)
        super().__post_init__()

    def __call__(self, x, inverse=False, context=None):
        """The flow-layer contract: ``x -> (y, log_det)``, or with ``inverse=True`` ``y -> (x, log_det)``; one log-det
        per example. Here y = logit(alpha + (1 - 2 alpha)(x + 1/2)).
        ``context`` is accepted for the uniform layer call and ignored.
        """
        return logit_transform(x, self.alpha, inverse)


def check_alpha(alpha: float) -> None:
    """alpha < 1/2 keeps s in (0, 1); alpha >= 1e-7 keeps s < 1 in float32, where a top-bin
    x + 1/2 can round to 1 (float32 spacing below 1 is 6e-8) and logit(1) is infinite."""
    if not 1e-7 <= alpha < 0.5:
        raise ValueError(
            f'logit alpha must lie in [1e-7, 1/2), got {alpha} (below 1e-7 a float32 '
            'pixel in the top bin can reach logit(1) = inf)'
        )
