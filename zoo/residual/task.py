"""``ResidualFlowTask``: maximum-likelihood training of a residual image flow through the shared loop.

    loss = mean bits/dim = (-log p(x) + D log L) / (D log 2),   x = (pixels + u) / L - 1/2

as ``zoo.flows.task.FlowTask``, with log p(x) from the residual blocks' log-det
estimator (``config.model['logdet']``: 'series' by default, as i-ResNet trains).  The
power-iteration vectors of every spectrally normalised weight live in
``state.aux['flow']['spectral']`` and ``train_step`` advances them once per step.

Evaluation uses ``eval_logdet`` (default 'exact': a dense Jacobian per block, cheap
at the sizes the embedded digits give; choose 'roulette' for large images, which is
unbiased, or 'series' with ``eval_num_terms``), so reported bits/dim are not
flattered by the training estimator's truncation bias.  Samples come from the
fixed-point inverse; each sheet's worst reached inverse error goes to the log.
"""

import logging

import jax
import jax.numpy as jnp
import numpy as np
import optax

from zoo import images
from zoo.residual.models import ResidualImageFlow
from zoo.train.config import ConfigError
from zoo.train.optim import build_optimizers
from zoo.train.state import TrainState
from zoo.train.task import Task
from zoo.viz.image_grid import make_grid

log = logging.getLogger(__name__)


def build_model(info, model_kwargs: dict) -> ResidualImageFlow:
    """The image model for ``info``'s images; wrong kwargs are ``ConfigError``s naming the fields."""
    try:
        return ResidualImageFlow(image_shape=tuple(info.image_shape), num_levels=info.num_levels, **model_kwargs)
    except TypeError as e:
        fields = sorted(f for f in ResidualImageFlow.__dataclass_fields__ if f not in ('parent', 'name'))
        raise ConfigError(f'model settings for iresnet: {e}; it takes {fields}') from e
    except ValueError as e:
        raise ConfigError(f'iresnet on {info.name}: {e}') from e


class ResidualFlowTask(Task):
    """i-ResNet / Residual Flow on images (architecture and estimator from ``config.model``)."""

    watch = 'loss'
    headline = 'bpd'

    def __init__(self, info, config, eval_logdet: str = 'exact', eval_num_terms: int = 20,
                 temperatures=(0.7, 1.0), num_samples: int = 64):
        self.info = info
        self.model = build_model(info, config.model)
        self.eval_model = self.model.clone(logdet=eval_logdet, num_terms=eval_num_terms)
        self.temperatures = tuple(float(t) for t in temperatures)
        self.num_samples = num_samples
        self.optimizers = build_optimizers(config, ('flow',))
        self._sample = jax.jit(self._sample_pixels)

    def init(self, rng, batch) -> TrainState:
        init_key, noise_key, state_key = jax.random.split(rng, 3)
        x = images.dequantize(noise_key, batch['image'], self.info.num_levels)
        variables = dict(self.model.init({'params': init_key}, x))  # ActNorm sees this batch
        params = variables.pop('params')
        return TrainState.create(state_key, {'flow': params}, self.optimizers, aux={'flow': variables})

    def _loss(self, params, other, pixels, rng):
        noise_key, logdet_key = jax.random.split(rng)
        bpd, updated = self.model.apply({'params': params, **other}, pixels, noise_key,
                                        method=self.model.bits_per_dim, rngs={'logdet': logdet_key},
                                        mutable=['spectral'])
        bpd = jnp.mean(bpd)
        return bpd, ({'bpd': bpd}, updated)

    def train_step(self, state, batch, rng):
        other = state.aux['flow']
        (loss, (metrics, updated)), grads = jax.value_and_grad(self._loss, has_aux=True)(
            state.params['flow'], other, batch['image'], rng)
        state = state.apply_gradients('flow', grads, self.optimizers['flow'])
        state = state.replace(aux={**state.aux, 'flow': {**other, **updated}})
        return state, {**metrics, 'loss': loss, 'grad_norm': optax.tree.norm(grads)}

    def variables(self, state, use_ema: bool = True) -> dict:
        """The model's Flax variables (EMA parameters when kept)."""
        return {'params': state.averaged('flow', use_ema), **state.aux['flow']}

    def eval_step(self, state, batch, rng):
        noise_key, logdet_key = jax.random.split(rng)
        return {'bpd': self.eval_model.apply(self.variables(state), batch['image'], noise_key,
                                             method=self.eval_model.bits_per_dim, rngs={'logdet': logdet_key})}

    def _sample_pixels(self, variables, rng, temperature):
        sample_key, logdet_key = jax.random.split(rng)
        x, diagnostics = self.model.apply(variables, sample_key, self.num_samples, temperature,
                                          method=self.model.sample, rngs={'logdet': logdet_key},
                                          mutable=['diagnostics'])
        errors = jax.tree.leaves(diagnostics['diagnostics'])
        worst = jnp.max(jnp.stack([jnp.max(e) for e in errors if e.dtype != jnp.bool_]))
        return images.to_pixels(x, self.info.num_levels), worst

    def visualize(self, state, rng):
        """A sheet of samples per temperature; logs the worst fixed-point inverse error reached."""
        variables = self.variables(state)
        sheets = {}
        for t in self.temperatures:
            pixels, worst = self._sample(variables, rng, jnp.float32(t))
            worst = float(worst)
            if not np.isfinite(worst) or worst > self.model.inverse_tol:
                log.warning('samples at T=%.2f: fixed-point inverse reached error %.3g (tolerance %.1g)',
                            t, worst, self.model.inverse_tol)
            sheets[f'samples_T{t:.2f}'] = make_grid(pixels, self.info.num_levels)
        return sheets
