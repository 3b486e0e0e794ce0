"""Residual-flow models: a multi-scale image model (Glow's layout) and a flat model for 2-D densities.

Each step is ActNorm then a residual block (``block.ResidualBlock``).  The image model
runs ``scales`` levels of squeeze -> ``blocks`` steps -> split (no split after the
last; ``zoo.flows.multiscale``), like Glow (Kingma & Dhariwal 2018) with the coupling
and 1x1 conv replaced by one free-form invertible residual block; Residual Flows (Chen et al. 2019) use the
same squeeze / factor-out layout.  Both models sow each block inverse's reached
error into 'diagnostics' when sampling.
"""

from collections.abc import Sequence
from typing import Literal

import flax.linen as nn
import jax
import jax.numpy as jnp

from zoo.distributions import get_prior, sum_except_batch
from zoo.flows.actnorm import ActNorm
from zoo.flows.chain import run_chain
from zoo.flows.image_flow import ImageFlow
from zoo.flows.multiscale import multiscale_forward, multiscale_inverse
from zoo.flows.split import Split, factored_shapes
from zoo.flows.squeeze import squeeze, unsqueeze
from zoo.residual.block import BlockSettings, ResidualBlock, block_settings


def _steps(model, count: int) -> list:
    steps = []
    for _ in range(count):
        if model.actnorm:
            steps.append(ActNorm())
        steps.append(ResidualBlock(**block_settings(model)))
    return steps


class ResidualImageFlow(ImageFlow, BlockSettings):
    """``scales`` x (squeeze, ``blocks`` x [ActNorm, residual CNN block], split); latents standard normal.

    The block settings (``BlockSettings``: widths, Lipschitz coefficient, log-det
    estimator, inverse) are the model's fields, given to every block.  Paper CIFAR-10
    i-ResNet (Behrmann et al. 2019, "Invertible Residual Networks", experiments, sec. 5):
    scales=3, blocks=16, hidden=(512, 512), coeff=0.9, num_terms=5 (the paper's first
    scale does not squeeze; here every scale does).
    """

    image_shape: tuple = (32, 32, 3)
    scales: int = 3
    blocks: int = 16
    actnorm: bool = True

    def __post_init__(self):
        super().__post_init__()
        factor = 2**self.scales
        if self.scales < 1 or self.image_shape[0] % factor or self.image_shape[1] % factor:
            raise ValueError(
                f'{self.scales} scales squeeze {self.scales} times: height and width must be '
                f'divisible by {factor}, got {self.image_shape}'
            )
        if self.blocks < 1:
            raise ValueError(f'blocks must be >= 1, got {self.blocks}')

    def setup(self):
        """Flax ``setup``: builds the layers the class docstring lists."""
        self.flows = [_steps(self, self.blocks) for _ in range(self.scales)]
        self.splits = [Split(learned=True) for _ in range(self.scales - 1)]

    @property
    def latent_shapes(self):
        """Shapes of the standard-normal latents ``forward`` returns, one per level, without the batch axis."""
        shapes, (h, w, c) = factored_shapes(self.image_shape, self.scales - 1)
        return shapes + [(h // 2, w // 2, 4 * c)]

    def _level(self, s, x, inverse):
        """squeeze, then scale s's blocks (inverse: the blocks backwards, then unsqueeze)."""
        if inverse:
            x, log_det = run_chain(self.flows[s], x, inverse=True)
            return unsqueeze(x), log_det
        return run_chain(self.flows[s], squeeze(x))

    def forward(self, x):
        """Encode: ``x -> (latents, log_det)``, with log|det dz/dx| per example."""
        return multiscale_forward(self._level, self.splits, x, self.scales)

    def inverse(self, latents):
        """Decode: ``latents -> (x, log_det)``; the log-det is minus the forward one at the same point."""
        return multiscale_inverse(self._level, self.splits, latents)


class _Step(BlockSettings):
    """One step of ``ResidualFlow2D``, the body of its scan: ActNorm (if ``actnorm``) then a residual block."""

    actnorm: bool = True
    inverse: bool = False

    @nn.compact
    def __call__(self, carry, _):
        x, log_det = carry
        y, ld = run_chain(_steps(self, 1), x, self.inverse)
        # a scan's carry keeps its dtype: float32 points through float64 weights stay float32
        return (y.astype(x.dtype), (log_det + ld).astype(log_det.dtype)), None


class ResidualFlow2D(BlockSettings):
    """A flat flow of ``blocks`` x [ActNorm, residual MLP block] on (N, D) data, standard normal base.

    For 2-D toy densities, where ``logdet='exact'`` is cheap (a 2 x 2 Jacobian); the
    block settings are ``BlockSettings``' with MLP defaults.  The blocks run as one
    ``nn.scan`` over parameters stacked on a leading axis: the step is traced and
    compiled once, where unrolled blocks made a 32-block model's training step compile
    for minutes (the log-det's backward pass differentiates each block's Jacobian).
    """

    blocks: int = 10
    kernel_sizes: Sequence[int] = ()
    activation: str = 'lipswish'
    logdet: Literal['exact', 'series', 'roulette'] = 'exact'
    actnorm: bool = True

    @nn.compact
    def __call__(self, x, inverse: bool = False):
        """The flow-layer contract: ``x -> (y, log_det)``, or with ``inverse=True`` ``y -> (x, log_det)``; one log-det
        per example. Flat (N, D) points through the residual blocks (the inverse runs them backwards).
        """
        if x.ndim != 2:
            raise ValueError(f'ResidualFlow2D takes flat (batch, dims) data, got shape {x.shape}')
        scan = nn.scan(
            _Step,
            variable_axes={'params': 0, 'spectral': 0, 'diagnostics': 0},
            split_rngs={'params': True, 'logdet': True},
            length=self.blocks,
            reverse=inverse,
        )
        settings = {**block_settings(self), 'actnorm': self.actnorm, 'inverse': inverse}
        (y, log_det), _ = scan(**settings, name='steps')((x, jnp.zeros(x.shape[0], x.dtype)), None)
        return y, log_det

    def log_prob(self, x):
        """log p(x) = log N(f(x); 0, I) + ln det(I + J) summed over the blocks."""
        log_prior, _ = get_prior('gaussian')
        z, log_det = self(x)
        return sum_except_batch(log_prior(z)) + log_det

    def sample(self, key, n: int, dims: int = 2, temperature: float = 1.0):
        """x = F^{-1}(temperature * eps), eps ~ N(0, I): ``n`` points of dimension ``dims``."""
        z = temperature * jax.random.normal(key, (n, dims), jnp.float32)
        return self(z, inverse=True)[0]
