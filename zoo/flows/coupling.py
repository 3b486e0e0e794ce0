"""Coupling layers: NICE's additive and RealNVP/Glow's affine coupling.

Pure functions hold the math; the Linen modules below only own the conditioner
network's parameters and call them.  Every function takes a batch (leading axis N)
and returns a per-example log-det of shape (N,).
"""

from typing import Any, Literal

import flax.linen as nn
import jax
import jax.numpy as jnp

from zoo.distributions import sum_except_batch
from zoo.flows.nets import MLP, ConvNet


def additive_transform(x, shift, inverse=False):
    """NICE (Dinh et al. 2014, eq. 6): y2 = x2 + m(x1); inverse x2 = y2 - m(y1); log-det 0."""
    y = x - shift if inverse else x + shift
    return y, jnp.zeros(x.shape[0], x.dtype)


def affine_transform(x, shift, log_scale, inverse=False):
    """RealNVP (Dinh et al. 2016, eq. 7): y2 = x2 * exp(log s) + t; log-det = sum(log s).

    Inverse: x2 = (y2 - t) * exp(-log s), log-det = -sum(log s).  A mask is applied by
    zeroing ``shift`` and ``log_scale`` on the untouched entries (RealNVP eq. 9).
    """
    if inverse:
        return (x - shift) * jnp.exp(-log_scale), -sum_except_batch(log_scale)
    return x * jnp.exp(log_scale) + shift, sum_except_batch(log_scale)


def bounded_log_scale(h, kind: str = 'sigmoid'):
    """A stable log-scale from an unconstrained network output h.

    'sigmoid': log s = log sigmoid(h + 2), Glow's choice (s in (0, 1), s ~ 0.88 at h = 0).
    'tanh':    log s = tanh(h), a log-scale bounded in (-1, 1) (RealNVP-style).
    """
    if kind == 'sigmoid':
        return jax.nn.log_sigmoid(h + 2.0)
    if kind == 'tanh':
        return jnp.tanh(h)
    raise ValueError(f"unknown scale function {kind!r}; choose 'sigmoid' or 'tanh'")


def split_channels(x, parity: int = 0):
    """(x_a, x_b) = halves of the last axis; parity 1 swaps which half conditions.

    Returns (conditioning half, transformed half).  With an odd channel count the
    first half is the larger.
    """
    c = x.shape[-1]
    a, b = x[..., : c - c // 2], x[..., c - c // 2 :]
    return (b, a) if parity else (a, b)


def merge_channels(x_cond, x_trans, parity: int = 0):
    """Inverse of ``split_channels``."""
    return jnp.concatenate((x_trans, x_cond) if parity else (x_cond, x_trans), axis=-1)


def split_interleaved(x, parity: int = 0):
    """NICE's split of flat inputs: (even indices, odd indices); parity 1 swaps roles."""
    a, b = x[..., 0::2], x[..., 1::2]
    return (b, a) if parity else (a, b)


def merge_interleaved(x_cond, x_trans, parity: int = 0):
    """Inverse of ``split_interleaved``."""
    even, odd = (x_trans, x_cond) if parity else (x_cond, x_trans)
    out = jnp.zeros(even.shape[:-1] + (even.shape[-1] + odd.shape[-1],), even.dtype)
    return out.at[..., 0::2].set(even).at[..., 1::2].set(odd)


def checkerboard_mask(height: int, width: int, parity: int = 0, dtype=jnp.float32):
    """RealNVP's spatial checkerboard b[i, j] = (i + j + parity) mod 2, shape (H, W, 1).

    Entries where b = 1 are kept and condition the transform of the others.
    """
    i, j = jnp.meshgrid(jnp.arange(height), jnp.arange(width), indexing='ij')
    return ((i + j + parity) % 2).astype(dtype)[..., None]


def channel_mask(channels: int, parity: int = 0, dtype=jnp.float32):
    """RealNVP's channel-wise mask: 1 on the first half of the channels (parity 0)."""
    first = jnp.arange(channels) < channels - channels // 2
    return (first if parity == 0 else ~first).astype(dtype)


def _transform(kind, x, h, inverse, scale_fn, keep=None):
    """Apply the additive or affine transform with parameters from network output h."""
    if kind == 'additive':
        shift = h if keep is None else h * (1 - keep)
        return additive_transform(x, shift, inverse)
    shift, raw = jnp.split(h, 2, axis=-1)
    log_scale = bounded_log_scale(raw, scale_fn)
    if keep is not None:
        shift, log_scale = shift * (1 - keep), log_scale * (1 - keep)
    return affine_transform(x, shift, log_scale, inverse)


def _check_kind(kind):
    if kind not in ('affine', 'additive'):
        raise ValueError(f"unknown coupling {kind!r}; choose 'affine' or 'additive'")


class ChannelCoupling(nn.Module):
    """Coupling on a split of the last axis: y1 = x1, y2 = g(x2; NN(x1)).

    ``split='half'`` splits channels in two halves (Glow, RealNVP's channel-wise masks);
    ``split='interleave'`` splits a flat vector into even / odd entries (NICE).
    ``net='conv'`` uses Glow's conv3x3-relu-conv1x1-relu-zeroconv3x3 conditioner on
    images, ``net='mlp'`` a ReLU MLP on flat inputs; both end zero-initialised, so the
    layer starts as the identity.  ``dtype`` (e.g. ``jnp.bfloat16``) is the conv
    conditioner's compute dtype; the transform and log-det stay in the input's dtype.
    ``conv_impl`` picks how its convolutions run (``zoo.flows.nets.conv_same``).
    An optional ``context`` (N, K) conditions the network: y2 = g(x2; NN(x1, c)), so
    the Jacobian stays triangular and the log-det keeps its form.
    """

    hidden: int
    kind: Literal['affine', 'additive'] = 'affine'
    parity: int = 0
    split: Literal['half', 'interleave'] = 'half'
    net: Literal['conv', 'mlp'] = 'conv'
    depth: int = 1
    scale_fn: str = 'sigmoid'
    dtype: Any = None
    conv_impl: str = 'auto'

    @nn.compact
    def __call__(self, x, inverse=False, context=None):
        """The flow-layer contract: ``x -> (y, log_det)``, or with ``inverse=True`` ``y -> (x, log_det)``; one log-det
        per example. One half of the channels conditions the other half's affine or additive map.
        ``context`` (N, ...) or None conditions the map.
        """
        _check_kind(self.kind)
        if x.shape[-1] < 2:
            raise ValueError(f'a coupling needs at least 2 channels to split, got shape {x.shape}')
        split, merge = (
            (split_channels, merge_channels) if self.split == 'half' else (split_interleaved, merge_interleaved)
        )
        x_cond, x_trans = split(x, self.parity)
        out = x_trans.shape[-1] * (2 if self.kind == 'affine' else 1)
        net = (
            ConvNet(self.hidden, out, dtype=self.dtype, conv_impl=self.conv_impl)
            if self.net == 'conv'
            else MLP(self.hidden, out, self.depth)
        )
        h = net(x_cond, context).astype(x.dtype)
        y_trans, log_det = _transform(self.kind, x_trans, h, inverse, self.scale_fn)
        return merge(x_cond, y_trans, self.parity), log_det


class MaskedCoupling(nn.Module):
    """RealNVP's masked coupling: y = b*x + (1-b) * g(x; NN(b*x)) for a binary mask b.

    ``mask='checkerboard'`` alternates spatially, ``mask='channel'`` keeps half the
    channels.  Same computation as a split coupling, at full resolution.  ``dtype`` is
    the conditioner's compute dtype (mixed precision) and ``conv_impl`` how its
    convolutions run, as for ``ChannelCoupling``; ``context`` too.
    """

    hidden: int
    kind: Literal['affine', 'additive'] = 'affine'
    mask: Literal['checkerboard', 'channel'] = 'checkerboard'
    parity: int = 0
    scale_fn: str = 'tanh'
    dtype: Any = None
    conv_impl: str = 'auto'

    @nn.compact
    def __call__(self, x, inverse=False, context=None):
        """The flow-layer contract: ``x -> (y, log_det)``, or with ``inverse=True`` ``y -> (x, log_det)``; one log-det
        per example. The masked entries condition the others (RealNVP eq. 9).
        ``context`` (N, ...) or None conditions the map.
        """
        _check_kind(self.kind)
        _, height, width, channels = x.shape
        if self.mask == 'checkerboard':
            keep = checkerboard_mask(height, width, self.parity, x.dtype)
        elif self.mask == 'channel':
            if channels < 2:
                raise ValueError(f'a channel mask needs at least 2 channels, got shape {x.shape}')
            keep = channel_mask(channels, self.parity, x.dtype)
        else:
            raise ValueError(f"unknown mask {self.mask!r}; choose 'checkerboard' or 'channel'")
        out = channels * (2 if self.kind == 'affine' else 1)
        # The conditioner sees only kept entries; on the inverse pass those are unchanged,
        # so it sees the same input and produces the same (shift, scale).
        h = ConvNet(self.hidden, out, dtype=self.dtype, conv_impl=self.conv_impl)(x * keep, context)
        h = h.astype(x.dtype)
        return _transform(self.kind, x, h, inverse, self.scale_fn, keep)
