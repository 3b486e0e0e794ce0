"""Conditioner networks for couplings and learned priors.

These are ordinary (non-invertible) networks: they produce shifts and scales.
``dtype`` is the compute dtype of their convolutions and matmuls (e.g. ``jnp.bfloat16``
for mixed precision); parameters stay float32 and the output is returned in the
input's dtype, so log-dets and losses are accumulated at full precision.

Convolutions go through ``conv_same``.  XLA's CPU backend computes a convolution's
weight gradient by first transposing the whole activation tensor (batch <-> channels)
and then running a slow convolution; ``impl='matmul'`` computes the same weight
gradient as one matrix product of the zero-padded, shifted copies ("taps") of
whichever side has few channels, and a 1x1 convolution as one matrix product.
``impl='auto'`` uses it on CPU and XLA's own convolution elsewhere (cuDNN, the TPU).
"""

import functools
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax.custom_derivatives import SymbolicZero

CONV_IMPLS = ("auto", "xla", "matmul")


def resolve_conv_impl(impl: str = "auto") -> str:
    """'auto' -> 'matmul' on the CPU backend, 'xla' elsewhere; other values unchanged."""
    if impl not in CONV_IMPLS:
        raise ValueError(f"unknown conv impl {impl!r}; choose one of {CONV_IMPLS}")
    if impl == "auto":
        return "matmul" if jax.default_backend() == "cpu" else "xla"
    return impl


def _conv(x, kernel, precision=None):
    return jax.lax.conv_general_dilated(x, kernel, (1, 1), "SAME", precision=precision,
                                        dimension_numbers=("NHWC", "HWIO", "NHWC"))


def _conv_as_matmul(x, kernel, precision=None):
    """The same convolution as matrix products, expanding the side with fewer channels:

    C_in <= C_out: y = taps(x)^T K with taps(x) (kh kw C_in, M) the zero-padded shifted
    copies of x, channel-major (M = N H W); otherwise z = K' x^T with K' (kh kw C_out, C_in)
    and y the sum of the kh kw shifted slices of z.  Used for the kernel's tangent, so its
    transpose -- the weight gradient -- is one untransposed matrix product:
    taps(x) dy, or (shifted dy) x.
    """
    kh, kw, ci, co = kernel.shape
    n, h, w, _ = x.shape
    ph, pw = kh // 2, kw // 2
    if ci <= co:
        xp = jnp.pad(x.transpose(3, 0, 1, 2), ((0, 0), (0, 0), (ph, ph), (pw, pw)))
        taps = jnp.stack([xp[..., a:a + h, b:b + w] for a in range(kh) for b in range(kw)])
        taps = taps.reshape(kh * kw * ci, n * h * w)
        y = jax.lax.dot_general(taps, kernel.reshape(kh * kw * ci, co), (((0,), (0,)), ((), ())),
                                precision=precision)
        return y.reshape(n, h, w, co)
    z = jax.lax.dot_general(kernel.transpose(0, 1, 3, 2).reshape(kh * kw * co, ci), x,
                            (((1,), (3,)), ((), ())), precision=precision)
    zp = jnp.pad(z.reshape(kh, kw, co, n, h, w), ((0, 0),) * 4 + ((ph, ph), (pw, pw)))
    y = sum(zp[a, b, ..., a:a + h, b:b + w] for a in range(kh) for b in range(kw))
    return y.transpose(1, 2, 3, 0)


@functools.partial(jax.custom_jvp, nondiff_argnums=(2,))
def _conv_matmul_grad(x, kernel, precision):
    return _conv(x, kernel, precision)


def _conv_matmul_grad_jvp(precision, primals, tangents):
    """d conv = conv(dx, K) + conv(x, dK), the second written as ``_conv_as_matmul``: reverse
    mode transposes it into the matmul weight gradient; forward mode works as usual."""
    x, kernel = primals
    dx, dk = tangents
    y = _conv(x, kernel, precision)
    dy = jnp.zeros_like(y)
    if not isinstance(dx, SymbolicZero):
        dy = dy + _conv(dx, kernel, precision)
    if not isinstance(dk, SymbolicZero):
        dy = dy + _conv_as_matmul(x, dk, precision)
    return y, dy


_conv_matmul_grad.defjvp(_conv_matmul_grad_jvp, symbolic_zeros=True)


def conv_same(x, kernel, impl: str = "auto", precision=None):
    """Stride-1 'SAME' convolution, NHWC input and HWIO kernel (odd kernel sizes):

        y[n, i, j, o] = sum_{a, b, c} x[n, i + a - kh//2, j + b - kw//2, c] K[a, b, c, o]

    ``impl='xla'`` is ``lax.conv_general_dilated`` with its own gradients.  ``impl='matmul'``
    computes a 1x1 kernel as one matrix product, and for larger kernels runs the same
    forward and input gradient but takes the weight gradient as a matrix product of
    shifted copies (see ``_conv_as_matmul``).  Values and derivatives (forward and
    reverse mode) are equal up to float rounding (summation order).
    """
    kh, kw, ci, co = kernel.shape
    if kh % 2 == 0 or kw % 2 == 0:
        raise ValueError(f"conv_same needs odd kernel sizes, got {kernel.shape[:2]}")
    impl = resolve_conv_impl(impl)
    if impl == "xla":
        return _conv(x, kernel, precision)
    if kh == kw == 1:
        return jnp.matmul(x, kernel[0, 0], precision=precision)
    return _conv_matmul_grad(x, kernel, precision)


class Conv(nn.Module):
    """A stride-1 'SAME' convolution with bias, computed by ``conv_same``.

    Same parameters as ``flax.linen.Conv`` ('kernel' (kh, kw, C_in, C_out), 'bias'), so
    either can load the other's checkpoints.  ``dtype`` is the compute dtype.
    """

    features: int
    kernel_size: tuple = (3, 3)
    impl: str = "auto"
    dtype: Any = None
    kernel_init: Any = nn.initializers.lecun_normal()
    bias_init: Any = nn.initializers.zeros

    @nn.compact
    def __call__(self, x):
        kernel = self.param("kernel", self.kernel_init, (*self.kernel_size, x.shape[-1], self.features))
        bias = self.param("bias", self.bias_init, (self.features,))
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
    conv_impl: str = "auto"

    @nn.compact
    def __call__(self, x):
        y = Conv(self.features, self.kernel_size, self.conv_impl, dtype=self.dtype,
                 kernel_init=nn.initializers.zeros, name="conv")(x)
        logs = self.param("logs", nn.initializers.zeros, (self.features,))
        if self.dtype is not None:  # mixed precision: back to the parameters' precision
            y = y.astype(logs.dtype)
        return y * jnp.exp(3.0 * logs)


class ConvNet(nn.Module):
    """Glow's coupling network: conv3x3(hidden) relu, conv1x1(hidden) relu, ZeroConv3x3(out)."""

    hidden: int
    features: int
    dtype: Any = None
    conv_impl: str = "auto"

    @nn.compact
    def __call__(self, x):
        x = nn.relu(Conv(self.hidden, (3, 3), self.conv_impl, dtype=self.dtype)(x))
        x = nn.relu(Conv(self.hidden, (1, 1), self.conv_impl, dtype=self.dtype)(x))
        return ZeroConv(self.features, dtype=self.dtype, conv_impl=self.conv_impl)(x)


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
