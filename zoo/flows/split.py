"""Factoring out latents: Glow's split with a learned conditional prior, and the top prior.

Both are written as standardising bijections, eps = (z - mu) * exp(-log sigma), with
log-det -sum(log sigma).  Then log N(z; mu, sigma) = log N(eps; 0, I) - sum(log sigma),
so a whole multi-scale model is one bijection from x to standard-normal latents:
sampling at temperature T draws eps ~ N(0, T^2 I), and interpolation works on eps.
"""

import flax.linen as nn
import jax.numpy as jnp

from zoo.distributions import sum_except_batch
from zoo.flows.coupling import merge_channels, split_channels
from zoo.flows.nets import ZeroConv


def context_shift(context, features: int, name: str = 'context'):
    """A zero-initialised linear map of the context c (N, K) -> (N, 1, 1, features) (0 if c is None).

    The class-conditional prior of Glow (Kingma & Dhariwal 2018, sec. 5: "the prior's
    mean and log-scale are a linear function of the one-hot label"): added per channel,
    it starts as the unconditional prior.
    """
    if context is None:
        return 0.0
    h = nn.Dense(features, kernel_init=nn.initializers.zeros, name=name)(context)
    return h[:, None, None, :]


def gaussian_standardize(z, mean, log_scale, inverse=False):
    """eps = (z - mu) exp(-log sigma), log-det = -sum(log sigma); inverse z = mu + exp(log sigma) eps."""
    log_scale = jnp.broadcast_to(log_scale, z.shape)
    if inverse:
        return mean + jnp.exp(log_scale) * z, sum_except_batch(log_scale)
    return (z - mean) * jnp.exp(-log_scale), -sum_except_batch(log_scale)


def factored_shapes(image_shape, num_splits: int):
    """Shapes after ``num_splits`` rounds of squeeze (H/2, W/2, 4C) then split (half out).

    Returns (the factored-out latents' shapes, the shape that is kept).
    """
    h, w, c = image_shape
    shapes = []
    for _ in range(num_splits):
        h, w, c = h // 2, w // 2, 4 * c
        shapes.append((h, w, c // 2))
        c -= c // 2
    return shapes, (h, w, c)


class Split(nn.Module):
    """Factor out half of the channels: x -> (x1, eps2).

    With ``learned=True`` (Glow's split2d) the factored half z2 gets the prior
    N(mu(x1), sigma(x1)^2) from a zero-initialised conv on the kept half, and is
    returned standardised; with ``learned=False`` (RealNVP) z2 itself is the latent.
    ``positional=True`` adds a learned per-position (H, W, C) mean and log-scale,
    zero-initialised: alone (``learned=False``) it is the unconditional per-pixel
    Gaussian of normflows' MultiscaleFlow; with ``learned=True`` the prior sees both
    the kept half and where in the image it is (fixed layouts: MNIST's empty border).

    With ``conditional=True`` a context c (N, K) adds a zero-initialised linear map of c to
    the mean and log-scale (``context_shift``): Glow's optional class-conditional split
    prior.  Without ``conditional`` the context is ignored.

    Forward: ``x -> (x1, eps2, log_det)``.  Inverse: ``(x1, eps2) -> (x, log_det)``.
    """

    learned: bool = True
    positional: bool = False
    conv_impl: str = 'auto'
    conditional: bool = False

    @nn.compact
    def __call__(self, x, eps=None, inverse=False, context=None):
        """Factor out half the channels: ``x -> (x1, eps, log_det)`` with eps = (z2 - mu(x1)) / sigma(x1);
        ``inverse=True`` rebuilds x from (x1, eps).
        ``context`` (N, ...) or None conditions the map.
        """
        if inverse:
            x1, z2 = x, eps
        else:
            if x.shape[-1] < 2:
                raise ValueError(f'cannot split {x.shape[-1]} channel(s) in two (shape {x.shape})')
            x1, z2 = split_channels(x)
        mean = log_scale = 0.0
        if self.learned:
            h = ZeroConv(2 * z2.shape[-1], conv_impl=self.conv_impl)(x1)
            mean, log_scale = h[..., 0::2], h[..., 1::2]
        if self.positional:
            mean = mean + self.param('mean', nn.initializers.zeros, z2.shape[1:], z2.dtype)
            log_scale = log_scale + self.param('log_scale', nn.initializers.zeros, z2.shape[1:], z2.dtype)
        if self.conditional and context is not None:
            h = context_shift(context, 2 * z2.shape[-1]).astype(z2.dtype)
            mean, log_scale = mean + h[..., 0::2], log_scale + h[..., 1::2]
        if self.learned or self.positional or (self.conditional and context is not None):
            z2, log_det = gaussian_standardize(z2, mean, log_scale, inverse)
        else:
            log_det = jnp.zeros(x.shape[0], x.dtype)
        if inverse:
            return merge_channels(x1, z2), log_det
        return x1, z2, log_det


class LearnedPrior(nn.Module):
    """Glow's learned top prior N(mu, sigma^2) with per-channel mu, log sigma starting at 0
    (``positional=True``: per position and channel, as normflows' DiagGaussian), written
    as the standardising bijection z -> eps.

    Given a context c (N, K), e.g. a one-hot label, mean and log-scale gain a zero-initialised
    linear function of c per channel: Glow's class-conditional prior p(z | y) (Kingma &
    Dhariwal 2018, sec. 5)."""

    positional: bool = False

    @nn.compact
    def __call__(self, z, inverse=False, context=None):
        """The flow-layer contract: ``x -> (y, log_det)``, or with ``inverse=True`` ``y -> (x, log_det)``; one log-det
        per example. Here eps = (z - mu) / sigma with learned mu, sigma (per channel, or per position).
        ``context`` (N, ...) or None conditions the map.
        """
        shape = z.shape[1:] if self.positional else z.shape[-1:]
        mean = self.param('mean', nn.initializers.zeros, shape, z.dtype)
        log_scale = self.param('log_scale', nn.initializers.zeros, shape, z.dtype)
        if context is not None:
            h = context_shift(context, 2 * z.shape[-1]).astype(z.dtype)
            mean, log_scale = mean + h[..., 0::2], log_scale + h[..., 1::2]
        return gaussian_standardize(z, mean, log_scale, inverse)
