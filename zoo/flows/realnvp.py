"""RealNVP (Dinh, Sohl-Dickstein & Bengio 2016): multi-scale affine couplings."""

from zoo.flows.actnorm import ActNorm
from zoo.flows.chain import run_chain
from zoo.flows.coupling import ChannelCoupling, MaskedCoupling
from zoo.flows.image_flow import ImageFlow
from zoo.flows.multiscale import multiscale_forward, multiscale_inverse
from zoo.flows.split import Split, factored_shapes
from zoo.flows.squeeze import Squeeze


class RealNVP(ImageFlow):
    """``scales`` levels; each but the last: 3 checkerboard couplings, squeeze, 3 channel-wise
    couplings, then half the channels are factored out as a latent.  The last level:
    4 checkerboard couplings.  Mask parities alternate within each group (paper, sec. 3.6).

    The paper normalises with batch norm inside the flow; here an ActNorm before each
    coupling plays that role without batch statistics at test time.  The conditioner is
    Glow's three-conv network rather than the paper's ResNet.
    """

    image_shape: tuple = (32, 32, 3)
    scales: int = 3
    hidden: int = 64
    scale_fn: str = 'tanh'

    def __post_init__(self):
        super().__post_init__()
        factor = 2 ** (self.scales - 1)
        h, w, _ = self.image_shape
        if self.scales < 1 or h % factor or w % factor:
            raise ValueError(
                f'RealNVP with {self.scales} scales squeezes {self.scales - 1} times: '
                f'height and width must be divisible by {factor}, got {self.image_shape}'
            )

    def setup(self):
        """Flax ``setup``: builds the layers the class docstring lists."""

        def coupling(mask, parity):
            return [ActNorm(), MaskedCoupling(self.hidden, mask=mask, parity=parity, scale_fn=self.scale_fn)]

        def channel_coupling(parity):
            return [ActNorm(), ChannelCoupling(self.hidden, parity=parity, scale_fn=self.scale_fn)]

        levels = []
        for s in range(self.scales):
            if s == self.scales - 1:
                layers = sum((coupling('checkerboard', i % 2) for i in range(4)), [])
            else:
                layers = (
                    sum((coupling('checkerboard', i % 2) for i in range(3)), [])
                    + [Squeeze()]
                    + sum((channel_coupling(i % 2) for i in range(3)), [])
                )
            levels.append(layers)
        self.levels = levels
        self.splits = [Split(learned=False) for _ in range(self.scales - 1)]

    @property
    def latent_shapes(self):
        """Shapes of the standard-normal latents ``forward`` returns, one per level, without the batch axis."""
        shapes, kept = factored_shapes(self.image_shape, self.scales - 1)
        return shapes + [kept]

    def _level(self, s, x, inverse, context=None):
        return run_chain(self.levels[s], x, inverse, context)

    def forward(self, x, context=None):
        """Encode: ``x -> (latents, log_det)``, with log|det dz/dx| per example.
        ``context`` (N, ...) or None conditions the map.
        """
        return multiscale_forward(self._level, self.splits, x, self.scales, context)

    def inverse(self, latents, context=None):
        """Decode: ``latents -> (x, log_det)``; the log-det is minus the forward one at the same point.
        ``context`` (N, ...) or None conditions the map.
        """
        return multiscale_inverse(self._level, self.splits, latents, context)
