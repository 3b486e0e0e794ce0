"""Invertible 1x1 convolutions (Glow, Kingma & Dhariwal 2018, sec. 3.2).

A 1x1 convolution is the matrix product y = x W over the channel axis at every pixel,
so its log-det is H * W * log|det W|.
"""

import math

import flax.linen as nn
import jax
import jax.numpy as jnp

from zoo.linalg import log_abs_det, random_rotation


def conv1x1_transform(x, w, log_abs_det_w, inverse=False):
    """y = x W (channels last); log-det = H * W * log|det W|.  Inverse: x = y W^{-1}.

    Matmuls run at full float32 precision so that the inverse stays an inverse on
    hardware whose default float32 matmul is reduced precision (TF32, bf16 passes).
    """
    spatial = math.prod(x.shape[1:-1])
    log_det = jnp.full((x.shape[0],), spatial * log_abs_det_w, x.dtype)
    hi = jax.lax.Precision.HIGHEST
    if inverse:
        return jnp.matmul(x, jnp.linalg.inv(w), precision=hi), -log_det
    return jnp.matmul(x, w, precision=hi), log_det


def lu_weight(perm, lower, upper, sign_s, log_s):
    """W = P L (U + diag(sign(s) exp(log|s|))): Glow's LU parameterisation.

    L is unit lower triangular and U strictly upper triangular (the diagonals of the
    ``lower`` / ``upper`` arrays are ignored), so log|det W| = sum(log|s|) at O(C) cost.
    """
    c = log_s.shape[0]
    l = jnp.tril(lower, -1) + jnp.eye(c, dtype=lower.dtype)
    u = jnp.triu(upper, 1) + jnp.diag(sign_s * jnp.exp(log_s))
    return perm @ l @ u


def lu_init(key, channels, dtype=jnp.float32):
    """(P, L, U, s): the LU factors of a random rotation W0 = P L U, with s = diag(U)."""
    p, l, u = jax.scipy.linalg.lu(random_rotation(key, channels, dtype))
    return p, l, u, jnp.diag(u)


class Conv1x1(nn.Module):
    """Invertible 1x1 convolution with a full weight matrix, initialised as a random rotation.

    log|det W| comes from a pivoted LU (``slogdet``), which stays accurate in float32.
    """

    @nn.compact
    def __call__(self, x, inverse=False, context=None):
        """The flow-layer contract: ``x -> (y, log_det)``, or with ``inverse=True`` ``y -> (x, log_det)``; one log-det
        per example. Here y = x W per position; log-det = H W log|det W|.
        ``context`` is accepted for the uniform layer call and ignored.
        """
        w = self.param('kernel', lambda key: random_rotation(key, x.shape[-1], x.dtype))
        return conv1x1_transform(x, w, log_abs_det(w), inverse)


class LUConv1x1(nn.Module):
    """Invertible 1x1 convolution in LU form, W = P L (U + diag(sign(s) exp(log|s|))).

    P and sign(s) are fixed at initialisation and live in the 'constants' collection;
    L, U and log|s| are trained.  Initialised from the LU factors of a random rotation.
    """

    @nn.compact
    def __call__(self, x, inverse=False, context=None):
        """The flow-layer contract: ``x -> (y, log_det)``, or with ``inverse=True`` ``y -> (x, log_det)``; one log-det
        per example. Here y = x W with W = P L (U + diag(s)); log-det = H W sum(log|s|).
        ``context`` is accepted for the uniform layer call and ignored.
        """
        c = x.shape[-1]
        # Flax evaluates initialisers abstractly on every call to check shapes, so they
        # must work outside init too; the key only matters at init.
        key = self.make_rng('params') if self.is_initializing() else jax.random.key(0)
        init = lambda: lu_init(key, c, x.dtype)
        perm = self.variable('constants', 'perm', lambda: init()[0]).value
        sign_s = self.variable('constants', 'sign_s', lambda: jnp.sign(init()[3])).value
        lower = self.param('lower', lambda _: init()[1])
        upper = self.param('upper', lambda _: init()[2])
        log_s = self.param('log_s', lambda _: jnp.log(jnp.abs(init()[3])))
        w = lu_weight(perm, lower, upper, sign_s, log_s)
        return conv1x1_transform(x, w, jnp.sum(log_s), inverse)
