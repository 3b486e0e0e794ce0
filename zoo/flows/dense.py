"""A RealNVP-style flow on flat vectors (N, D), for the 2-D toy densities.

    f = f_L o ... o f_1,   f_l = coupling_l o ActNorm_l,
    log p(x) = log N(f(x); 0, I) + sum_l log|det J_{f_l}(x_{l-1})|.

Each coupling is ``ChannelCoupling(net='mlp')``: one half of the vector (alternating
between layers) conditions an affine (or additive) map of the other half.  With
``scale_fn='tanh'`` the log-scale lies in (-1, 1), so a layer can stretch as well as
shrink, which the toy densities need; Glow's 'sigmoid' only shrinks.
"""

from typing import Literal

from zoo.flows.actnorm import ActNorm
from zoo.flows.chain import run_chain
from zoo.flows.coupling import ChannelCoupling
from zoo.flows.flow import Flow


class DenseFlow(Flow):
    """``num_layers`` of ActNorm -> coupling on (N, ``dim``) vectors, standard Gaussian prior.

    ``split='half'`` couples the first and second halves of the vector, ``'interleave'``
    the even and odd entries (the same for dim=2).  ``encode`` gives ``([z], log_det)``,
    ``decode`` inverts, ``log_prob`` and ``sample`` give the model density (all from
    ``Flow``).  ``init`` with real data so ActNorm starts standardised.

    Conditional density p(x | c) (as zuko's and flowjax's conditional flows): pass a
    ``context`` c (N, K) to ``init``, ``log_prob`` and ``sample``; every coupling's MLP
    takes it in its first layer (``zoo.flows.nets.add_context``).
    """

    dim: int = 2
    num_layers: int = 8
    hidden: int = 64
    depth: int = 2
    kind: Literal['affine', 'additive'] = 'affine'
    split: Literal['half', 'interleave'] = 'half'
    scale_fn: str = 'tanh'
    actnorm_init: Literal['data', 'zero'] = 'data'

    def setup(self):
        """Flax ``setup``: builds the layers the class docstring lists."""
        if self.dim < 2:
            raise ValueError(f'a coupling flow needs dim >= 2, got {self.dim}')
        layers = []
        for i in range(self.num_layers):
            layers.append(ActNorm(self.actnorm_init))
            layers.append(
                ChannelCoupling(
                    self.hidden,
                    self.kind,
                    parity=i % 2,
                    split=self.split,
                    net='mlp',
                    depth=self.depth,
                    scale_fn=self.scale_fn,
                )
            )
        self.layers = layers

    @property
    def event_shape(self) -> tuple:
        """One example's shape: ``(dim,)``."""
        return (self.dim,)

    @property
    def event_name(self) -> str:
        """What one example is called in error messages: ``vectors``."""
        return 'vectors'

    @property
    def latent_shapes(self):
        """Shapes of the standard-normal latents ``forward`` returns, one per level, without the batch axis."""
        return [(self.dim,)]

    def forward(self, x, context=None):
        """Encode: ``x -> (latents, log_det)``, with log|det dz/dx| per example.
        ``context`` (N, ...) or None conditions the map.
        """
        z, log_det = run_chain(self.layers, x, context=context)
        return [z], log_det

    def inverse(self, latents, context=None):
        """Decode: ``latents -> (x, log_det)``; the log-det is minus the forward one at the same point.
        ``context`` (N, ...) or None conditions the map.
        """
        return run_chain(self.layers, latents[0], inverse=True, context=context)
