"""Conditioner networks for couplings and learned priors.

These are ordinary (non-invertible) networks: they produce shifts and scales.
``dtype`` is the compute dtype of their convolutions and matmuls (e.g. ``jnp.bfloat16``
for mixed precision); parameters stay float32 and the output is returned in the
input's dtype, so log-dets and losses are accumulated at full precision.

Convolutions go through ``conv_same``.  On CPU, XLA's convolutions are slow where
Glow's nets have few channels on one side (2 -> 64 and 64 -> 4 at the first level) and
slower still in their gradients (jax-ml/jax#12868); ``impl='matmul'`` writes the whole
convolution as one matrix product of zero-filled shifted copies of the few-channel side,
and autodiff turns its gradients into matrix products of the same shape.  ``impl='auto'``
uses it on CPU and XLA's own convolution elsewhere (cuDNN, the TPU).
"""

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

CONV_IMPLS = ('auto', 'xla', 'matmul')


def resolve_conv_impl(impl: str = 'auto') -> str:
    """'auto' -> 'matmul' on the CPU backend, 'xla' elsewhere; other values unchanged."""
    if impl not in CONV_IMPLS:
        raise ValueError(f'unknown conv impl {impl!r}; choose one of {CONV_IMPLS}')
    if impl == 'auto':
        return 'matmul' if jax.default_backend() == 'cpu' else 'xla'
    return impl


def _conv(x, kernel, precision=None):
    return jax.lax.conv_general_dilated(
        x, kernel, (1, 1), 'SAME', precision=precision, dimension_numbers=('NHWC', 'HWIO', 'NHWC')
    )


def _shifted(x, a, b, ph, pw):
    """x shifted by (a - ph, b - pw) with zero fill: out[n, i, j] = x[n, i + a - ph, j + b - pw]."""
    h, w = x.shape[1:3]
    return jnp.pad(x, ((0, 0), (ph, ph), (pw, pw), (0, 0)))[:, a : a + h, b : b + w]


def _conv_as_matmul(x, kernel, precision=None):
    """The same convolution as one matrix product, expanding the side with fewer channels.

    C_in <= C_out: y = taps(x) K, with taps(x) (N H W, kh kw C_in) the kh kw zero-filled
    shifted copies of x side by side.  Otherwise z = x K' with K' (C_in, kh kw C_out), and
    y the sum of the kh kw shifted slices of z.  Autodiff transposes each into the same
    two pieces (shifted copies and shifted sums of the few-channel side), so the input and
    weight gradients are matrix products too, and nothing with kh kw x the many channels
    is ever built.
    """
    kh, kw, ci, co = kernel.shape
    ph, pw = kh // 2, kw // 2
    offsets = [(a, b) for a in range(kh) for b in range(kw)]
    if ci <= co:
        taps = jnp.concatenate([_shifted(x, a, b, ph, pw) for a, b in offsets], axis=-1)
        return jnp.matmul(taps, kernel.reshape(kh * kw * ci, co), precision=precision)
    z = jnp.matmul(x, kernel.transpose(2, 0, 1, 3).reshape(ci, kh * kw * co), precision=precision)
    parts = jnp.split(z, kh * kw, axis=-1)
    return sum(_shifted(part, a, b, ph, pw) for part, (a, b) in zip(parts, offsets))


def conv_same(x, kernel, impl: str = 'auto', precision=None):
    """Stride-1 'SAME' convolution, NHWC input and HWIO kernel (odd kernel sizes):

        y[n, i, j, o] = sum_{a, b, c} x[n, i + a - kh//2, j + b - kw//2, c] K[a, b, c, o]

    ``impl='xla'`` is ``lax.conv_general_dilated``; ``impl='matmul'`` is ``_conv_as_matmul``
    (a 1x1 kernel there is one plain matrix product).  Values and derivatives, forward and
    reverse mode, are equal up to float rounding (summation order).
    """
    kh, kw, ci, co = kernel.shape
    if kh % 2 == 0 or kw % 2 == 0:
        raise ValueError(f'conv_same needs odd kernel sizes, got {kernel.shape[:2]}')
    impl = resolve_conv_impl(impl)
    if impl == 'xla':
        return _conv(x, kernel, precision)
    if kh == kw == 1:
        return jnp.matmul(x, kernel[0, 0], precision=precision)
    return _conv_as_matmul(x, kernel, precision)


class Conv(nn.Module):
    """A stride-1 'SAME' convolution with bias, computed by ``conv_same``.

    Same parameters as ``flax.linen.Conv`` ('kernel' (kh, kw, C_in, C_out), 'bias'), so
    either can load the other's checkpoints.  ``dtype`` is the compute dtype.
    """

    features: int
    kernel_size: tuple = (3, 3)
    impl: str = 'auto'
    dtype: Any = None
    kernel_init: Any = nn.initializers.lecun_normal()
    bias_init: Any = nn.initializers.zeros

    @nn.compact
    def __call__(self, x):
        """y = conv(x, kernel) + bias with SAME padding, in ``dtype`` where set."""
        kernel = self.param('kernel', self.kernel_init, (*self.kernel_size, x.shape[-1], self.features))
        bias = self.param('bias', self.bias_init, (self.features,))
        dtype = self.dtype or x.dtype
        y = conv_same(x.astype(dtype), kernel.astype(dtype), self.impl)
        return y + bias.astype(dtype)


class ZeroConv(nn.Module):
    """Glow's Conv2dZeros: y = conv(x) * exp(3 * logs), kernel, bias and logs zero-initialised.

    Zero output at init makes each coupling (and each learned prior) start as the
    identity (Kingma & Dhariwal 2018, sec. 3.3); the exp(3 logs) gain lets the output
    grow quickly once training starts.
    """

    features: int
    kernel_size: tuple = (3, 3)
    dtype: Any = None
    conv_impl: str = 'auto'

    @nn.compact
    def __call__(self, x):
        """A zero-initialised conv scaled by exp(3 logs) per channel (Glow's last coupling layer): outputs
        start at 0.
        """
        y = Conv(
            self.features,
            self.kernel_size,
            self.conv_impl,
            dtype=self.dtype,
            kernel_init=nn.initializers.zeros,
            name='conv',
        )(x)
        logs = self.param('logs', nn.initializers.zeros, (self.features,))
        if self.dtype is not None:  # mixed precision: back to the parameters' precision
            y = y.astype(logs.dtype)
        return y * jnp.exp(3.0 * logs)


def add_context(h, context, dtype=None):
    """A context vector c (N, K) joins the network as a concatenation [x, c] into its first layer.

    W [x; c] = W_x x + W_c c, so the concatenation is written as a learned linear map of c
    added to the first layer's pre-activations h (N, ..., F), broadcast over positions.
    The kernels acting on x keep their shapes (an unconditional model's parameters are the
    conditional one's minus ``context``), and a 3x3 convolution sees no border artefact
    from a constant channel padded with zeros.  ``context=None`` returns h unchanged.
    """
    if context is None:
        return h
    if context.ndim != 2 or context.shape[0] != h.shape[0]:
        raise ValueError(f'expected a context of shape (batch={h.shape[0]}, K), got {context.shape}')
    c = nn.Dense(h.shape[-1], dtype=dtype, name='context')(context.astype(h.dtype))
    return h + c.reshape(c.shape[:1] + (1,) * (h.ndim - 2) + c.shape[1:]).astype(h.dtype)


class ConvNet(nn.Module):
    """Glow's coupling network: conv3x3(hidden) relu, conv1x1(hidden) relu, ZeroConv3x3(out).

    An optional context (N, K) enters the first layer (``add_context``).
    """

    hidden: int
    features: int
    dtype: Any = None
    conv_impl: str = 'auto'

    @nn.compact
    def __call__(self, x, context=None):
        """conv3x3 -> relu -> conv1x1 -> relu -> ZeroConv: the coupling's shift and log-scale, zero at init.
        ``context`` (N, ...) or None conditions the map.
        """
        h = Conv(self.hidden, (3, 3), self.conv_impl, dtype=self.dtype)(x)
        x = nn.relu(add_context(h, context, self.dtype))
        x = nn.relu(Conv(self.hidden, (1, 1), self.conv_impl, dtype=self.dtype)(x))
        return ZeroConv(self.features, dtype=self.dtype, conv_impl=self.conv_impl)(x)


class MLP(nn.Module):
    """NICE's coupling network: ``depth`` x Dense(hidden, relu), then a zero-initialised Dense.

    An optional context (N, K) enters the first layer (``add_context``).
    """

    hidden: int
    features: int
    depth: int = 5

    @nn.compact
    def __call__(self, x, context=None):
        """``depth`` x Dense(hidden, relu), then a zero-initialised Dense: zero at init.
        ``context`` (N, ...) or None conditions the map.
        """
        for i in range(self.depth):
            h = nn.Dense(self.hidden)(x)
            x = nn.relu(add_context(h, context) if i == 0 else h)
        return nn.Dense(self.features, kernel_init=nn.initializers.zeros)(x)
