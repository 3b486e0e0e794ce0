"""Invertible 1x1 convolutions whose matrices are invertible by construction.

The identities: det exp(A) = exp(tr A) and exp(A)^-1 = exp(-A) (Hoogeboom et al. 2020,
"The Convolution Exponential", sec. 3); Householder reflections are orthogonal
(Tomczak & Welling 2016, "Improving VAEs using Householder flow", sec. 3); and
exp(x y^T) = I + x y^T (e^<x,y> - 1) / <x,y> with determinant e^<x,y> (matrix
determinant lemma).

    ExpConv1x1          W = exp(A):                log-det H W tr(A),  inverse exp(-A)
    HouseholderConv1x1  W = H_1 ... H_k, H = I - 2 v v^T / |v|^2:   orthogonal, log-det 0
    RankOneExpConv1x1   W = exp(x_1 y_1^T) ... exp(x_k y_k^T):  log-det H W sum_i <x_i, y_i>

Unlike Glow's full 1x1 conv (Kingma & Dhariwal 2018), none needs a determinant or an
LU factorisation, and none can become singular during training.  Each acts on the
channel axis of (N, H, W, C) images, or as a dense layer on (N, D) vectors, and plugs
into Glow in place of its 1x1 conv (``zoo.flows.glow.PERMUTATIONS``).
"""

import math

import flax.linen as nn
import jax
import jax.numpy as jnp

from zoo.linalg import exp_rank_one_apply, householder_apply, log_det_exp, log_det_exp_rank_one


def _per_example(x, log_det_per_position):
    """The per-example log-det of a map applied at every spatial position of x."""
    spatial = math.prod(x.shape[1:-1])
    return jnp.full((x.shape[0],), spatial * log_det_per_position, x.dtype)


def exp_conv1x1_transform(x, a, inverse=False):
    """y = x exp(A) over channels; log-det = H W tr(A).  Inverse: x = y exp(-A)."""
    w = jax.scipy.linalg.expm(-a if inverse else a)
    log_det = _per_example(x, log_det_exp(a))
    y = jnp.matmul(x, w, precision=jax.lax.Precision.HIGHEST)
    return y, (-log_det if inverse else log_det)


def householder_transform(x, vectors, inverse=False):
    """z -> H_k ... H_1 z on each channel vector z (rows of ``vectors`` are the v_i); log-det 0.

    Each reflection is its own inverse, so the inverse applies them in reverse order
    (Tomczak & Welling 2016).  The v_i are normalised here, so any nonzero vector works.
    """
    units = vectors / jnp.linalg.norm(vectors, axis=-1, keepdims=True)
    order = units[::-1] if inverse else units
    for v in order:
        x = householder_apply(v, x)
    return x, jnp.zeros((x.shape[0],), x.dtype)


def rank_one_exp_transform(x, xs, ys, inverse=False):
    """z -> exp(x_k y_k^T) ... exp(x_1 y_1^T) z on each channel vector; log-det = H W sum_i <x_i, y_i>.

    Each factor costs O(C) per position (``zoo.linalg.exp_rank_one_apply``).
    """
    pairs = list(zip(xs, ys))
    for u, w in reversed(pairs) if inverse else pairs:
        x = exp_rank_one_apply(u, w, x, inverse)
    log_det = _per_example(x, jnp.sum(jax.vmap(log_det_exp_rank_one)(xs, ys)))
    return x, (-log_det if inverse else log_det)


def _skew_symmetric_init(key, shape, dtype=jnp.float32):
    """A random skew-symmetric A, so exp(A) starts as a random rotation (as Glow starts W)."""
    m = jax.random.normal(key, shape, dtype)
    return (m - m.T) / jnp.sqrt(2.0)


class ExpConv1x1(nn.Module):
    """1x1 conv with W = exp(A), A free: invertible for every A, log-det H W tr(A)."""

    @nn.compact
    def __call__(self, x, inverse=False, context=None):
        """The flow-layer contract: ``x -> (y, log_det)``, or with ``inverse=True`` ``y -> (x, log_det)``; one log-det
        per example. Here W = exp(A); log-det = H W tr(A).
        ``context`` is accepted for the uniform layer call and ignored.
        """
        c = x.shape[-1]
        a = self.param('log_kernel', _skew_symmetric_init, (c, c), x.dtype)
        return exp_conv1x1_transform(x, a, inverse)


class HouseholderConv1x1(nn.Module):
    """Orthogonal 1x1 conv as a product of ``num_reflections`` Householder reflections; log-det 0."""

    num_reflections: int = 4

    @nn.compact
    def __call__(self, x, inverse=False, context=None):
        """The flow-layer contract: ``x -> (y, log_det)``, or with ``inverse=True`` ``y -> (x, log_det)``; one log-det
        per example. W = product of Householder reflections (orthogonal); log-det 0.
        ``context`` is accepted for the uniform layer call and ignored.
        """
        if self.num_reflections < 1:
            raise ValueError(f'num_reflections must be >= 1, got {self.num_reflections}')
        vectors = self.param('vectors', nn.initializers.normal(1.0), (self.num_reflections, x.shape[-1]), x.dtype)
        return householder_transform(x, vectors, inverse)


class RankOneExpConv1x1(nn.Module):
    """1x1 conv (or dense layer) W = prod_i exp(x_i y_i^T), always invertible, log-det H W sum <x_i, y_i>."""

    num_factors: int = 4
    init_scale: float = 0.3

    @nn.compact
    def __call__(self, x, inverse=False, context=None):
        """The flow-layer contract: ``x -> (y, log_det)``, or with ``inverse=True`` ``y -> (x, log_det)``; one log-det
        per example. W = product of exp(x_k y_k^T); log-det = H W sum_k y_k^T x_k.
        ``context`` is accepted for the uniform layer call and ignored.
        """
        if self.num_factors < 1:
            raise ValueError(f'num_factors must be >= 1, got {self.num_factors}')
        shape = (self.num_factors, x.shape[-1])
        xs = self.param('x', nn.initializers.normal(self.init_scale), shape, x.dtype)
        ys = self.param('y', nn.initializers.normal(self.init_scale), shape, x.dtype)
        return rank_one_exp_transform(x, xs, ys, inverse)
