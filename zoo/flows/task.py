"""The flows' tasks: maximum likelihood on images (``FlowTask``) and on points (``DensityTask``).

    FlowTask:     loss = mean over the batch of bits/dim = (-log p(x) + D log L) / (D log 2),
                  x = (pixels + u) / L - 1/2,  u ~ U[0, 1)^D        (uniform dequantisation)
    DensityTask:  loss = mean over the batch of -log p(x) in nats

One network, ``'flow'``, with the model's non-trained variable collections (fixed
permutations) carried in ``state.aux['flow']``; ``state.variables('flow')`` gives the
Flax variables to ``apply`` the model with.  Either task builds its flow from
``config.model`` or takes a ready-made one: ``FlowTask(info, config, model=my_flow)``.
"""

import jax
import jax.numpy as jnp

from zoo import images
from zoo.flows.dense import DenseFlow
from zoo.flows.glow import Glow
from zoo.flows.nice import NICE
from zoo.flows.realnvp import RealNVP
from zoo.tasks import build_model
from zoo.train.config import ConfigError
from zoo.train.optim import build_optimizers
from zoo.train.state import TrainState
from zoo.train.task import Task, jit_method
from zoo.viz.image_grid import make_grid

FLOWS = {'nice': NICE, 'realnvp': RealNVP, 'glow': Glow}


class FlowTask(Task):
    """An image flow: ``flow`` in {nice, realnvp, glow} with ``config.model``'s settings, or ``model``.

    ``sample(state, rng, n, temperature=1.0)`` gives uint8 pixels; the sheets are
    ``num_samples`` samples at each of ``temperatures``.
    """

    watch = 'loss'
    headline = 'bpd'

    def __init__(
        self,
        info,
        config,
        flow: str = 'glow',
        temperatures=(0.5, 0.7, 0.8, 0.9, 1.0),
        num_samples: int = 64,
        model=None,
    ):
        if model is None:
            if flow not in FLOWS:
                raise ConfigError(f'unknown flow {flow!r}; choose one of {sorted(FLOWS)}')
            model = build_model(
                FLOWS[flow], config.model, image_shape=tuple(info.image_shape), num_levels=info.num_levels
            )
        self.model = model
        self.num_levels = model.num_levels
        self.temperatures = tuple(float(t) for t in temperatures)
        self.num_samples = num_samples
        self.optimizers = build_optimizers(config, ('flow',))

    def init(self, rng, batch) -> TrainState:
        """``Task.init``: a fresh ``TrainState`` whose parameters are initialised from ``batch`` (ActNorm initialises
        from this batch, dequantised).
        """
        init_key, noise_key, state_key = jax.random.split(rng, 3)
        x = images.dequantize(noise_key, batch['image'], self.num_levels)
        variables = dict(self.model.init({'params': init_key}, x))  # ActNorm sees this batch
        params = variables.pop('params')
        return TrainState.create(state_key, {'flow': params}, self.optimizers, aux={'flow': variables})

    def loss(self, params, other, pixels, rng):
        """Mean bits/dim of ``pixels`` under uniform dequantisation: -log p(x) / (D ln 2) + log2(num_levels)."""
        bpd = jnp.mean(self.model.apply({'params': params, **other}, pixels, rng, method=self.model.bits_per_dim))
        return bpd, {'bpd': bpd}

    def train_step(self, state, batch, rng):
        """``Task.train_step``: one optimiser step on the mean bits/dim; returns the new state and the step's scalar
        metrics.
        """
        return state.minimize('flow', self.loss, state.aux['flow'], batch['image'], rng)

    def eval_step(self, state, batch, rng):
        """``Task.eval_step``: per-example bits/dim (``bpd``) of shape (N,) (the loop drops padding and averages)."""
        return {'bpd': self.model.apply(state.variables('flow'), batch['image'], rng, method=self.model.bits_per_dim)}

    @jit_method(static_argnames='n')
    def sample(self, state, rng, n: int, temperature=1.0):
        """``n`` samples at ``temperature`` as uint8 pixels (N, H, W, C) in [0, num_levels)."""
        x = self.model.apply(state.variables('flow'), rng, n, temperature, method=self.model.sample)
        return images.to_pixels(x, self.num_levels)

    def visualize(self, state, batch, rng):
        """A sheet of samples per temperature (the same noise at every call)."""
        return {
            f'samples_T{t:.2f}': make_grid(self.sample(state, rng, self.num_samples, jnp.float32(t)), self.num_levels)
            for t in self.temperatures
        }


class DensityTask(Task):
    """A flow on vectors fitted by maximum likelihood to ``batch['point']`` (N, D).

    The flow is ``DenseFlow(dim=D, **config.model)`` or ``model`` (any flow with ``log_prob``
    and ``sample``, e.g. ``zoo.residual.models.ResidualFlow2D``, whose power-iteration
    vectors advance each step); the data e.g. a 2-D toy density,
    ``Config(task='density', dataset='toy2d:two_moons')``.
    """

    watch = 'loss'
    headline = 'nll'

    def __init__(self, info, config, model=None):
        if model is None:
            if info.point_dim is None:
                raise ConfigError(f'task density fits points; {info.name} holds images')
            model = build_model(DenseFlow, config.model, dim=info.point_dim)
        self.model = model
        self.optimizers = build_optimizers(config, ('flow',))

    def init(self, rng, batch) -> TrainState:
        """``Task.init``: a fresh ``TrainState`` whose parameters are initialised from ``batch``'s points (ActNorm
        initialises from them).
        """
        init_key, state_key = jax.random.split(rng)
        variables = dict(self.model.init(init_key, batch['point']))  # ActNorm sees this batch
        params = variables.pop('params')
        return TrainState.create(state_key, {'flow': params}, self.optimizers, aux={'flow': variables})

    def loss(self, params, other, points):
        """Mean -log p(x), and the power-iteration vectors the forward pass advanced (if any)."""
        log_prob, updated = self.model.apply(
            {'params': params, **other}, points, method=self.model.log_prob, mutable=['spectral']
        )
        nll = -jnp.mean(log_prob)
        return nll, ({'nll': nll}, updated)

    def train_step(self, state, batch, rng):
        """``Task.train_step``: one optimiser step on the mean -log p(x); returns the new state and the step's scalar
        metrics.
        """
        return state.minimize('flow', self.loss, state.aux['flow'], batch['point'], mutable=True)

    def eval_step(self, state, batch, rng):
        """``Task.eval_step``: per-example negative log-likelihood in nats (``nll``) of shape (N,) (the loop drops
        padding and averages).
        """
        return {'nll': -self.model.apply(state.variables('flow'), batch['point'], method=self.model.log_prob)}

    @jit_method(static_argnames='n')
    def sample(self, state, rng, n: int, temperature=1.0):
        """``n`` float32 points (n, D) from the model at ``temperature``."""
        return self.model.apply(state.variables('flow'), rng, n, temperature, method=self.model.sample)
