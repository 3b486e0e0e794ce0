"""NICE's diagonal scaling layer (Dinh et al. 2014, sec. 3.3)."""

import flax.linen as nn
import jax.numpy as jnp

from zoo.flows.coupling import affine_transform


class Scaling(nn.Module):
    """z = exp(s) * h elementwise; log-det = sum(s).  Equivalent to learning the prior's scale.

    ``s`` starts at zero and has one entry per dimension of an example.
    """

    @nn.compact
    def __call__(self, x, inverse=False, context=None):
        """The flow-layer contract: ``x -> (y, log_det)``, or with ``inverse=True`` ``y -> (x, log_det)``; one log-det
        per example. Here y = x * exp(log s); log-det = sum(log s).
        ``context`` is accepted for the uniform layer call and ignored.
        """
        log_scale = self.param('log_scale', nn.initializers.zeros, x.shape[1:], x.dtype)
        log_scale = jnp.broadcast_to(log_scale, x.shape)
        return affine_transform(x, jnp.zeros_like(x), log_scale, inverse)
