"""The residual block y = x + g(x) as a flow layer: ``x -> (y, log_det)`` and back.

    forward   y = x + g(x),  log_det = ln det(I + J_g(x))  (estimator: ``logdet``)
    inverse   x = fixed point of x -> y - g(x),  log_det = -ln det(I + J_g(x))

g's weights are normalised once per call (``nets.LipschitzWeights``), then the
estimators evaluate g as a pure function of them.  Stochastic estimators draw from
the Flax rng stream 'logdet' (``apply(..., rngs={'logdet': key})``).  The inverse
``sow``s its reached error and convergence flag into the 'diagnostics' collection;
``models`` return them from ``sample`` so a caller can ``check_inverse``.
"""

import dataclasses
from collections.abc import Sequence
from typing import Literal

import flax.linen as nn
import jax

from zoo.residual import logdet as ld
from zoo.residual.inverse import fixed_point_inverse
from zoo.residual.nets import LipschitzWeights, branch_function

ESTIMATORS = ('exact', 'series', 'roulette')


class BlockSettings(nn.Module):
    """The settings of a residual block, declared once: ``ResidualBlock`` and the models built
    of blocks inherit them, and ``block_settings`` hands a model's to its blocks.

    Attributes:
        hidden: hidden widths of g; coeff: Lipschitz coefficient c (Lip(g) < c^layers).
        activation: 'elu' (i-ResNet) or 'lipswish' (Residual Flows).
        kernel_sizes: g's convolution kernel sizes (images); () for MLPs on vectors.
        logdet: 'exact', 'series' (truncated at ``num_terms``, biased) or 'roulette' (unbiased).
        noise: Hutchinson vectors, 'gaussian' or 'rademacher'.
        gradient: 'backprop' through the series, or 'neumann' (memory-saving; Chen et al. 2019,
            "Residual Flows for Invertible Generative Modeling", sec. 3.2).
        n_exact, roulette_p, max_terms: the roulette's N = n_exact + Geometric(p), capped.
        inverse_tol, inverse_max_iters: the fixed-point inverse's stopping rule.
        num_iters: power iterations per call of the spectral normalisation.
    """

    hidden: Sequence[int] = (64, 64)
    coeff: float = 0.9
    activation: str = 'elu'
    kernel_sizes: Sequence[int] = (3, 1, 3)
    logdet: Literal['exact', 'series', 'roulette'] = 'series'
    num_terms: int = 5
    noise: Literal['gaussian', 'rademacher'] = 'gaussian'
    gradient: Literal['backprop', 'neumann'] = 'backprop'
    n_exact: int = 2
    roulette_p: float = 0.5
    max_terms: int = 30
    inverse_tol: float = 1e-6
    inverse_max_iters: int = 100
    num_iters: int = 1

    def __post_init__(self):
        if self.logdet not in ESTIMATORS:
            raise ValueError(f'unknown log-det estimator {self.logdet!r}; choose one of {ESTIMATORS}')
        if not 0.0 < self.coeff < 1.0:
            raise ValueError(f'the Lipschitz coefficient must be in (0, 1) for invertibility, got {self.coeff}')
        super().__post_init__()


def block_settings(module: BlockSettings) -> dict:
    """``module``'s values of every ``BlockSettings`` field, to build its ``ResidualBlock``s with."""
    return {
        f.name: getattr(module, f.name) for f in dataclasses.fields(BlockSettings) if f.name not in ('parent', 'name')
    }


class ResidualBlock(BlockSettings):
    """An invertible residual block (i-ResNet / Residual Flow); MLP on (N, D), CNN on (N, H, W, C)."""

    def _log_det(self, g, detached_g, x):
        if self.logdet == 'exact':
            return ld.exact_log_det(g, x)
        key = self.make_rng('logdet') if self.has_rng('logdet') else self.make_rng('params')
        kw = dict(noise=self.noise, gradient=self.gradient, detached_g=detached_g)
        if self.logdet == 'series':
            return ld.power_series_log_det(g, x, key, self.num_terms, **kw)
        return ld.russian_roulette_log_det(g, x, key, self.n_exact, self.roulette_p, self.max_terms, **kw)

    @nn.compact
    def __call__(self, x, inverse: bool = False):
        """The flow-layer contract: ``x -> (y, log_det)``, or with ``inverse=True`` ``y -> (x, log_det)``; one log-det
        per example. Forward y = x + g(x); log-det log|det(I + J_g)| by the chosen estimator; the inverse is a
        fixed-point iteration.
        """
        weights = LipschitzWeights(self.hidden, self.coeff, self.kernel_sizes, self.num_iters, name='g')(
            x.shape[1:], x.dtype
        )
        conv = x.ndim == 4
        g = branch_function(weights, self.activation, conv)
        detached_g = branch_function(jax.lax.stop_gradient(weights), self.activation, conv)
        if not inverse:
            gx, log_det = self._log_det(g, detached_g, x)
            return x + gx, log_det
        x_rec, info = fixed_point_inverse(detached_g, x, self.inverse_tol, self.inverse_max_iters)
        self.sow('diagnostics', 'inverse_error', info.error)
        self.sow('diagnostics', 'inverse_converged', info.converged)
        _, log_det = self._log_det(g, detached_g, x_rec)
        return x_rec, -log_det
