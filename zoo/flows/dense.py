"""A RealNVP-style flow on flat vectors (N, D), for the 2-D toy densities.

    f = f_L o ... o f_1,   f_l = coupling_l o ActNorm_l,
    log p(x) = log N(f(x); 0, I) + sum_l log|det J_{f_l}(x_{l-1})|.

Each coupling is ``ChannelCoupling(net='mlp')``: one half of the vector (alternating
between layers) conditions an affine (or additive) map of the other half.  With
``scale_fn='tanh'`` the log-scale lies in (-1, 1), so a layer can stretch as well as
shrink, which the toy densities need; Glow's 'sigmoid' only shrinks.
"""

from typing import Literal

import flax.linen as nn
import jax.numpy as jnp

from zoo.distributions import gaussian_log_prob, sample_gaussian, sum_except_batch
from zoo.flows.actnorm import ActNorm
from zoo.flows.chain import run_chain
from zoo.flows.coupling import ChannelCoupling


class DenseFlow(nn.Module):
    """``num_layers`` of ActNorm -> coupling on (N, ``dim``) vectors, standard Gaussian prior.

    ``split='half'`` couples the first and second halves of the vector, ``'interleave'``
    the even and odd entries (the same for dim=2).  Call it (or ``encode``) for
    ``x -> (z, log_det)``; ``decode`` inverts; ``log_prob`` and ``sample`` give the model
    density.  ``init`` with real data so ActNorm starts standardised.
    """

    dim: int = 2
    num_layers: int = 8
    hidden: int = 64
    depth: int = 2
    kind: Literal["affine", "additive"] = "affine"
    split: Literal["half", "interleave"] = "half"
    scale_fn: str = "tanh"
    actnorm_init: Literal["data", "zero"] = "data"

    def setup(self):
        if self.dim < 2:
            raise ValueError(f"a coupling flow needs dim >= 2, got {self.dim}")
        layers = []
        for i in range(self.num_layers):
            layers.append(ActNorm(self.actnorm_init))
            layers.append(ChannelCoupling(self.hidden, self.kind, parity=i % 2, split=self.split,
                                          net="mlp", depth=self.depth, scale_fn=self.scale_fn))
        self.layers = layers

    def __call__(self, x, inverse=False):
        """x (N, dim) -> (z, log|det dz/dx|); with ``inverse=True`` z -> (x, log|det dx/dz|)."""
        if x.ndim != 2 or x.shape[-1] != self.dim:
            raise ValueError(f"expected vectors of shape (batch, {self.dim}), got {x.shape}")
        return run_chain(self.layers, x, inverse)

    def encode(self, x):
        """x -> (z, log|det dz/dx|)."""
        return self(x)

    def decode(self, z):
        """z -> x."""
        return self(z, inverse=True)[0]

    def log_prob(self, x):
        """log p(x) = sum_i log N(z_i; 0, 1) + log|det dz/dx|, per example."""
        z, log_det = self(x)
        return sum_except_batch(gaussian_log_prob(z)) + log_det

    def sample(self, key, n: int, temperature: float = 1.0):
        """x = f^{-1}(z), z ~ N(0, T^2 I)."""
        return self.decode(sample_gaussian(key, (n, self.dim), temperature))


def nll(model: DenseFlow, variables, x) -> jnp.ndarray:
    """Mean negative log-likelihood in nats per example, the training loss."""
    return -jnp.mean(model.apply(variables, x, method=model.log_prob))
