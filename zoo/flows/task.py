"""``FlowTask``: maximum-likelihood training of an image flow through the shared loop.

    loss = mean over the batch of bits/dim = (-log p(x) + D log L) / (D log 2),
    x = (pixels + u) / L - 1/2,  u ~ U[0, 1)^D        (uniform dequantisation)

One network, ``'flow'``, with the model's non-trained variable collections
(fixed permutations) carried in ``state.aux['flow']``.  Evaluation reports
per-image bits/dim; the sheets are samples at each of ``temperatures``.
"""

import jax
import jax.numpy as jnp
import optax

from zoo import images
from zoo.flows.glow import Glow
from zoo.flows.nice import NICE
from zoo.flows.realnvp import RealNVP
from zoo.train.config import ConfigError
from zoo.train.optim import build_optimizers, implicit_grad_regularizer
from zoo.train.state import TrainState
from zoo.train.task import Task
from zoo.viz.image_grid import make_grid

FLOWS = {'nice': NICE, 'realnvp': RealNVP, 'glow': Glow}


def build_flow(flow: str, info, model_kwargs: dict):
    """The flow ``flow`` names for ``info``'s images; wrong names or kwargs are ``ConfigError``s."""
    if flow not in FLOWS:
        raise ConfigError(f'unknown flow {flow!r}; choose one of {sorted(FLOWS)}')
    try:
        return FLOWS[flow](image_shape=tuple(info.image_shape), num_levels=info.num_levels, **model_kwargs)
    except TypeError as e:
        fields = sorted(f for f in FLOWS[flow].__dataclass_fields__ if f not in ('parent', 'name'))
        raise ConfigError(f'model settings for {flow}: {e}; {flow} takes {fields}') from e
    except ValueError as e:
        raise ConfigError(f'{flow} on {info.name}: {e}') from e


class FlowTask(Task):
    """An image flow (``flow`` in {nice, realnvp, glow}, architecture from ``config.model``)."""

    watch = 'loss'
    headline = 'bpd'

    def __init__(self, info, config, flow: str = 'glow', temperatures=(0.5, 0.7, 0.8, 0.9, 1.0),
                 num_samples: int = 64):
        self._setup(build_flow(flow, info, config.model), config, temperatures, num_samples)

    @classmethod
    def from_model(cls, model, config, temperatures=(1.0,), num_samples: int = 16) -> 'FlowTask':
        """The task for an already built flow (benchmarks, notebooks); ``config`` gives the optimizer."""
        task = cls.__new__(cls)
        task._setup(model, config, temperatures, num_samples)
        return task

    def _setup(self, model, config, temperatures, num_samples):
        self.model = model
        self.num_levels = model.num_levels
        self.temperatures = tuple(float(t) for t in temperatures)
        self.num_samples = num_samples
        self.optimizers = build_optimizers(config, ('flow',))
        self.loss = implicit_grad_regularizer(self._loss, config.optimizer_for('flow').implicit_grad_reg)
        self._sample = jax.jit(self._sample_pixels)

    def init(self, rng, batch) -> TrainState:
        init_key, noise_key, state_key = jax.random.split(rng, 3)
        x = images.dequantize(noise_key, batch['image'], self.num_levels)
        variables = dict(self.model.init({'params': init_key}, x))  # ActNorm sees this batch
        params = variables.pop('params')
        return TrainState.create(state_key, {'flow': params}, self.optimizers, aux={'flow': variables})

    def _loss(self, params, other, pixels, rng):
        bpd = jnp.mean(self.model.apply({'params': params, **other}, pixels, rng,
                                        method=self.model.bits_per_dim))
        return bpd, {'bpd': bpd}

    def train_step(self, state, batch, rng):
        (loss, metrics), grads = jax.value_and_grad(self.loss, has_aux=True)(
            state.params['flow'], state.aux['flow'], batch['image'], rng)
        state = state.apply_gradients('flow', grads, self.optimizers['flow'])
        return state, {**metrics, 'loss': loss, 'grad_norm': optax.tree.norm(grads)}

    def variables(self, state, use_ema: bool = True) -> dict:
        """The flow's Flax variables (EMA parameters when kept)."""
        return {'params': state.averaged('flow', use_ema), **state.aux['flow']}

    def eval_step(self, state, batch, rng):
        return {'bpd': self.model.apply(self.variables(state), batch['image'], rng,
                                        method=self.model.bits_per_dim)}

    def _sample_pixels(self, variables, rng, temperature):
        x = self.model.apply(variables, rng, self.num_samples, temperature, method=self.model.sample)
        return images.to_pixels(x, self.num_levels)

    def visualize(self, state, rng):
        """A sheet of samples per temperature (the same noise at every call)."""
        variables = self.variables(state)
        return {f'samples_T{t:.2f}': make_grid(self._sample(variables, rng, jnp.float32(t)), self.num_levels)
                for t in self.temperatures}


class DensityTask(Task):
    """A flow on vectors (``DenseFlow``) fitted by maximum likelihood to points: batches {'x': (N, D)}.

    loss = mean over the batch of -log p(x) in nats.  For 2-D toy densities
    (``zoo.data.toy2d``), whose samples are drawn fresh rather than read from a dataset.
    """

    watch = 'loss'
    headline = 'nll'

    def __init__(self, model, config):
        self.model = model
        self.optimizers = build_optimizers(config, ('flow',))

    def init(self, rng, batch) -> TrainState:
        init_key, state_key = jax.random.split(rng)
        variables = dict(self.model.init(init_key, batch['x']))
        params = variables.pop('params')
        return TrainState.create(state_key, {'flow': params}, self.optimizers, aux={'flow': variables})

    def variables(self, state, use_ema: bool = True) -> dict:
        return {'params': state.averaged('flow', use_ema), **state.aux['flow']}

    def train_step(self, state, batch, rng):
        def loss_fn(params):
            return -jnp.mean(self.model.apply({'params': params, **state.aux['flow']}, batch['x'],
                                              method=self.model.log_prob))
        loss, grads = jax.value_and_grad(loss_fn)(state.params['flow'])
        return state.apply_gradients('flow', grads, self.optimizers['flow']), {'loss': loss}

    def eval_step(self, state, batch, rng):
        return {'nll': -self.model.apply(self.variables(state), batch['x'], method=self.model.log_prob)}
