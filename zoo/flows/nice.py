"""NICE (Dinh, Krueger & Bengio 2014): additive couplings on flat inputs and a scaling layer."""

from zoo.flows.chain import run_chain
from zoo.flows.coupling import ChannelCoupling
from zoo.flows.image_flow import ImageFlow
from zoo.flows.scaling import Scaling


class NICE(ImageFlow):
    """x (flattened to D) -> ``num_couplings`` additive couplings -> diagonal scaling -> z.

    Each coupling splits the vector into even / odd entries, y2 = x2 + m(x1) with m an
    MLP of ``depth`` x Dense(``hidden``, relu); consecutive couplings swap the roles of
    the halves.  The paper's MNIST model (Dinh et al. 2014, "NICE", sec. 5.1): 4 couplings, depth 5, hidden 1000,
    logistic or Gaussian prior.
    """

    image_shape: tuple = (28, 28, 1)
    num_couplings: int = 4
    hidden: int = 1000
    depth: int = 5

    def __post_init__(self):
        super().__post_init__()
        if self.num_dims < 2:
            raise ValueError(f'NICE needs at least 2 dimensions to split, got image_shape {self.image_shape}')

    def setup(self):
        """Flax ``setup``: builds the layers the class docstring lists."""
        self.layers = [
            ChannelCoupling(self.hidden, 'additive', parity=i % 2, split='interleave', net='mlp', depth=self.depth)
            for i in range(self.num_couplings)
        ] + [Scaling()]

    @property
    def latent_shapes(self):
        """Shapes of the standard-normal latents ``forward`` returns, one per level, without the batch axis."""
        return [(self.num_dims,)]

    def forward(self, x, context=None):
        """Encode: ``x -> (latents, log_det)``, with log|det dz/dx| per example.
        ``context`` (N, ...) or None conditions the map.
        """
        z, log_det = run_chain(self.layers, x.reshape(x.shape[0], -1), context=context)
        return [z], log_det

    def inverse(self, latents, context=None):
        """Decode: ``latents -> (x, log_det)``; the log-det is minus the forward one at the same point.
        ``context`` (N, ...) or None conditions the map.
        """
        x, log_det = run_chain(self.layers, latents[0], inverse=True, context=context)
        return x.reshape(x.shape[0], *self.image_shape), log_det
