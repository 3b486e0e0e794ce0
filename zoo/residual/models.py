"""Residual-flow models: a multi-scale image model (Glow's layout) and a flat model for 2-D densities.

Each step is ActNorm then a residual block (``block.ResidualBlock``).  The image model
runs ``levels`` levels of squeeze -> ``blocks`` steps -> split (no split after the
last), like Glow (Kingma & Dhariwal 2018) with the coupling and 1x1 conv replaced by
one free-form invertible residual block; Residual Flows (Chen et al. 2019) use the
same squeeze / factor-out layout.  Both models sow each block inverse's reached
error into 'diagnostics' when sampling.
"""

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from zoo.distributions import get_prior, sum_except_batch
from zoo.flows.actnorm import ActNorm
from zoo.flows.chain import run_chain
from zoo.flows.image_flow import ImageFlow
from zoo.flows.split import Split, factored_shapes
from zoo.flows.squeeze import squeeze, unsqueeze
from zoo.residual.block import ResidualBlock

BLOCK_FIELDS = ('hidden', 'kernel_sizes', 'coeff', 'activation', 'logdet', 'num_terms', 'noise', 'gradient', 'n_exact',
                'roulette_p', 'max_terms', 'inverse_tol', 'inverse_max_iters')


def _steps(model, count: int) -> list:
    kw = {f: getattr(model, f) for f in BLOCK_FIELDS}
    steps = []
    for _ in range(count):
        if model.actnorm:
            steps.append(ActNorm())
        steps.append(ResidualBlock(**kw))
    return steps


class ResidualImageFlow(ImageFlow):
    """``levels`` x (squeeze, ``blocks`` x [ActNorm, residual CNN block], split); latents standard normal.

    Paper CIFAR-10 i-ResNet (SPEC 1.4): levels=3, blocks=16, hidden=(512, 512), coeff=0.9,
    num_terms=5 (the paper's first level does not squeeze; here every level does).
    """

    image_shape: tuple = (32, 32, 3)
    levels: int = 3
    blocks: int = 16
    hidden: Sequence[int] = (64, 64)
    kernel_sizes: Sequence[int] = (3, 1, 3)
    coeff: float = 0.9
    activation: str = 'elu'
    logdet: str = 'series'
    num_terms: int = 5
    noise: str = 'gaussian'
    gradient: str = 'backprop'
    n_exact: int = 2
    roulette_p: float = 0.5
    max_terms: int = 30
    inverse_tol: float = 1e-6
    inverse_max_iters: int = 100
    actnorm: bool = True

    def __post_init__(self):
        super().__post_init__()
        factor = 2 ** self.levels
        if self.levels < 1 or self.image_shape[0] % factor or self.image_shape[1] % factor:
            raise ValueError(f'{self.levels} levels squeeze {self.levels} times: height and width must be '
                             f'divisible by {factor}, got {self.image_shape}')
        if self.blocks < 1:
            raise ValueError(f'blocks must be >= 1, got {self.blocks}')

    def setup(self):
        self.flows = [_steps(self, self.blocks) for _ in range(self.levels)]
        self.splits = [Split(learned=True) for _ in range(self.levels - 1)]

    @property
    def latent_shapes(self):
        shapes, (h, w, c) = factored_shapes(self.image_shape, self.levels - 1)
        return shapes + [(h // 2, w // 2, 4 * c)]

    def forward(self, x):
        latents, log_det = [], 0.0
        for level in range(self.levels):
            x, ld = run_chain(self.flows[level], squeeze(x))
            log_det += ld
            if level < self.levels - 1:
                x, z, ld = self.splits[level](x)
                latents.append(z)
                log_det += ld
        return latents + [x], log_det

    def inverse(self, latents):
        x, log_det = latents[-1], 0.0
        for level in reversed(range(self.levels)):
            if level < self.levels - 1:
                x, ld = self.splits[level](x, latents[level], inverse=True)
                log_det += ld
            x, ld = run_chain(self.flows[level], x, inverse=True)
            log_det += ld
            x = unsqueeze(x)
        return x, log_det


class ResidualFlow2D(nn.Module):
    """A flat flow of ``blocks`` x [ActNorm, residual MLP block] on (N, D) data, standard normal base.

    For 2-D toy densities, where ``logdet='exact'`` is cheap (a 2 x 2 Jacobian).
    """

    blocks: int = 10
    hidden: Sequence[int] = (64, 64)
    kernel_sizes: Sequence[int] = ()
    coeff: float = 0.9
    activation: str = 'lipswish'
    logdet: str = 'exact'
    num_terms: int = 5
    noise: str = 'gaussian'
    gradient: str = 'backprop'
    n_exact: int = 2
    roulette_p: float = 0.5
    max_terms: int = 30
    inverse_tol: float = 1e-6
    inverse_max_iters: int = 100
    actnorm: bool = True

    def setup(self):
        self.steps = _steps(self, self.blocks)

    def __call__(self, x, inverse: bool = False):
        if x.ndim != 2:
            raise ValueError(f'ResidualFlow2D takes flat (batch, dims) data, got shape {x.shape}')
        return run_chain(self.steps, x, inverse)

    def log_prob(self, x):
        """log p(x) = log N(f(x); 0, I) + ln det(I + J) summed over the blocks."""
        log_prior, _ = get_prior('gaussian')
        z, log_det = self(x)
        return sum_except_batch(log_prior(z)) + log_det

    def sample(self, key, n: int, dims: int = 2, temperature: float = 1.0):
        z = temperature * jax.random.normal(key, (n, dims), jnp.float32)
        return self(z, inverse=True)[0]
