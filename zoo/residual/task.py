"""``ResidualFlowTask``: maximum-likelihood training of a residual image flow through the shared loop.

    loss = mean bits/dim = (-log p(x) + D log L) / (D log 2),   x = (pixels + u) / L - 1/2

as ``zoo.flows.task.FlowTask``, with log p(x) from the residual blocks' log-det
estimator (``config.model['logdet']``: 'series' by default, as i-ResNet trains).  The
power-iteration vectors of every spectrally normalised weight live in
``state.aux['flow']['spectral']`` and ``train_step`` advances them once per step.

Evaluation uses ``eval_logdet`` (default 'exact': a dense Jacobian per block, cheap
at the sizes the embedded digits give, refused above ``EXACT_LOGDET_MAX_DIM``; choose
'roulette' for large images, which is unbiased, or 'series' with ``eval_num_terms``),
so reported bits/dim are not flattered by the training estimator's truncation bias.
Samples come from the fixed-point inverse; each sheet's worst reached inverse error
goes to the log.
"""

import logging

import jax
import jax.numpy as jnp
import numpy as np

from zoo import images
from zoo.flows.task import FlowTask
from zoo.residual.models import ResidualImageFlow
from zoo.tasks import build_model
from zoo.train.config import ConfigError
from zoo.train.task import jit_method
from zoo.viz.image_grid import make_grid

log = logging.getLogger(__name__)

# The exact log-det of a D-dimensional block holds D Jacobian-vector products of the whole
# evaluation batch at once: at D = 1024 (32x32x1, batch 300, hidden 32) one activation alone
# is 10 GB.  256 is a 16x16x1 image.
EXACT_LOGDET_MAX_DIM = 256


class ResidualFlowTask(FlowTask):
    """i-ResNet / Residual Flow on images (architecture and estimator from ``config.model``, or ``model``).

    ``sample(state, rng, n, temperature=1.0)`` gives uint8 pixels.
    """

    def __init__(
        self,
        info,
        config,
        eval_logdet: str = 'exact',
        eval_num_terms: int = 20,
        temperatures=(0.7, 1.0),
        num_samples: int = 64,
        model=None,
    ):
        if model is None:
            model = build_model(
                ResidualImageFlow, config.model, image_shape=tuple(info.image_shape), num_levels=info.num_levels
            )
        dim = int(np.prod(info.image_shape))
        if eval_logdet == 'exact' and dim > EXACT_LOGDET_MAX_DIM:
            raise ConfigError(
                f"eval_logdet='exact' needs a dense {dim}x{dim} Jacobian per image and block, out of reach above "
                f"{EXACT_LOGDET_MAX_DIM} dimensions; set task_kwargs.eval_logdet='roulette' (unbiased) for "
                f'{"x".join(map(str, info.image_shape))} images'
            )
        super().__init__(info, config, temperatures=temperatures, num_samples=num_samples, model=model)
        self.eval_model = self.model.clone(logdet=eval_logdet, num_terms=eval_num_terms)

    def loss(self, params, other, pixels, rng):
        """Mean bits/dim, and the power-iteration vectors the forward pass advanced."""
        noise_key, logdet_key = jax.random.split(rng)
        bpd, updated = self.model.apply(
            {'params': params, **other},
            pixels,
            noise_key,
            method=self.model.bits_per_dim,
            rngs={'logdet': logdet_key},
            mutable=['spectral'],
        )
        bpd = jnp.mean(bpd)
        return bpd, ({'bpd': bpd}, updated)

    def train_step(self, state, batch, rng):
        """``Task.train_step``: one optimiser step on the mean bits/dim with a stochastic log-det; returns the new
        state and the step's scalar metrics.
        """
        return state.minimize('flow', self.loss, state.aux['flow'], batch['image'], rng, mutable=True)

    def eval_step(self, state, batch, rng):
        """``Task.eval_step``: per-example bits/dim (``bpd``) with the evaluation log-det estimator of shape (N,) (the
        loop drops padding and averages).
        """
        noise_key, logdet_key = jax.random.split(rng)
        return {
            'bpd': self.eval_model.apply(
                state.variables('flow'),
                batch['image'],
                noise_key,
                method=self.eval_model.bits_per_dim,
                rngs={'logdet': logdet_key},
            )
        }

    @jit_method(static_argnames='n')
    def sample_with_error(self, state, rng, n: int, temperature=1.0):
        """``n`` uint8 samples, and the worst error the blocks' fixed-point inverses reached."""
        sample_key, logdet_key = jax.random.split(rng)
        x, diagnostics = self.model.apply(
            state.variables('flow'),
            sample_key,
            n,
            temperature,
            method=self.model.sample,
            rngs={'logdet': logdet_key},
            mutable=['diagnostics'],
        )
        errors = jax.tree.leaves(diagnostics['diagnostics'])
        worst = jnp.max(jnp.stack([jnp.max(e) for e in errors if e.dtype != jnp.bool_]))
        return images.to_pixels(x, self.num_levels), worst

    def sample(self, state, rng, n: int, temperature=1.0):
        """``n`` samples at ``temperature`` as uint8 pixels (N, H, W, C) in [0, num_levels)."""
        return self.sample_with_error(state, rng, n, temperature)[0]

    def visualize(self, state, batch, rng):
        """A sheet of samples per temperature; logs the worst fixed-point inverse error reached."""
        sheets = {}
        for t in self.temperatures:
            pixels, worst = self.sample_with_error(state, rng, self.num_samples, jnp.float32(t))
            worst = float(worst)
            if not np.isfinite(worst) or worst > self.model.inverse_tol:
                log.warning(
                    'samples at T=%.2f: fixed-point inverse reached error %.3g (tolerance %.1g)',
                    t,
                    worst,
                    self.model.inverse_tol,
                )
            sheets[f'samples_T{t:.2f}'] = make_grid(pixels, self.num_levels)
        return sheets
