"""Space-to-depth squeeze (RealNVP, Dinh et al. 2016, sec. 3.6)."""

import flax.linen as nn
import jax.numpy as jnp


def squeeze(x, factor: int = 2):
    """(N, H, W, C) -> (N, H/f, W/f, f*f*C): each f x f block becomes channels. Log-det 0."""
    n, h, w, c = x.shape
    if h % factor or w % factor:
        raise ValueError(
            f'cannot squeeze an image of height {h} and width {w} by {factor}: both must be divisible by {factor}'
        )
    x = x.reshape(n, h // factor, factor, w // factor, factor, c)
    return x.transpose(0, 1, 3, 2, 4, 5).reshape(n, h // factor, w // factor, factor * factor * c)


def unsqueeze(x, factor: int = 2):
    """Inverse of ``squeeze``: (N, H, W, f*f*C) -> (N, H*f, W*f, C)."""
    n, h, w, c = x.shape
    if c % (factor * factor):
        raise ValueError(f'cannot unsqueeze {c} channels by {factor}: need a multiple of {factor**2}')
    x = x.reshape(n, h, w, factor, factor, c // factor**2)
    return x.transpose(0, 1, 3, 2, 4, 5).reshape(n, h * factor, w * factor, c // factor**2)


class Squeeze(nn.Module):
    """``squeeze`` as a flow layer (log-det 0)."""

    factor: int = 2

    def __call__(self, x, inverse=False, context=None):
        """The flow-layer contract: ``x -> (y, log_det)``, or with ``inverse=True`` ``y -> (x, log_det)``; one log-det
        per example. Space-to-depth (H, W, C) -> (H/f, W/f, f^2 C); log-det 0.
        ``context`` is accepted for the uniform layer call and ignored.
        """
        y = unsqueeze(x, self.factor) if inverse else squeeze(x, self.factor)
        return y, jnp.zeros(x.shape[0], x.dtype)
