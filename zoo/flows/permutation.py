"""Fixed channel permutations (volume preserving, log-det 0)."""

import flax.linen as nn
import jax
import jax.numpy as jnp


def permute(x, perm, inverse=False):
    """y = x[..., perm]; inverse x = y[..., argsort(perm)]; log-det 0."""
    idx = jnp.argsort(perm) if inverse else perm
    return jnp.take(x, idx, axis=-1), jnp.zeros(x.shape[0], x.dtype)


class Reverse(nn.Module):
    """Reverse the channel order (RealNVP / Glow's 'reverse' mixing)."""

    @nn.compact
    def __call__(self, x, inverse=False, context=None):
        """The flow-layer contract: ``x -> (y, log_det)``, or with ``inverse=True`` ``y -> (x, log_det)``; one log-det
        per example. Channels reversed; log-det 0.
        ``context`` is accepted for the uniform layer call and ignored.
        """
        return permute(x, jnp.arange(x.shape[-1])[::-1], inverse)


class Shuffle(nn.Module):
    """A fixed random channel permutation drawn at init, kept in 'constants' (Glow's 'shuffle')."""

    @nn.compact
    def __call__(self, x, inverse=False, context=None):
        """The flow-layer contract: ``x -> (y, log_det)``, or with ``inverse=True`` ``y -> (x, log_det)``; one log-det
        per example. Channels permuted by a fixed random permutation; log-det 0.
        ``context`` is accepted for the uniform layer call and ignored.
        """
        perm = self.variable('constants', 'perm', lambda: jax.random.permutation(self.make_rng('params'), x.shape[-1]))
        return permute(x, perm.value, inverse)
