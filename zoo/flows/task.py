"""The flows' tasks: maximum likelihood on images (``FlowTask``) and on points (``DensityTask``).

    FlowTask:     loss = mean over the batch of bits/dim = (-log p(x) + D log L) / (D log 2),
                  x = (pixels + u) / L - 1/2,  u ~ U[0, 1)^D        (uniform dequantisation)
    DensityTask:  loss = mean over the batch of -log p(x) in nats

One network, ``'flow'``, with the model's non-trained variable collections (fixed
permutations) carried in ``state.aux['flow']``; ``state.variables('flow')`` gives the
Flax variables to ``apply`` the model with.  Either task builds its flow from
``config.model`` or takes a ready-made one: ``FlowTask(info, config, model=my_flow)``.

Class-conditional image flows (``conditional=True``; Kingma & Dhariwal 2018, sec. 5): the
context is the one-hot label, the loss is the bits/dim of log p(x | y) plus
``classifier_weight`` times the cross-entropy of Glow's linear classifier on the top
latent, and ``sample(..., labels=...)`` draws the requested classes.
"""

import jax
import jax.numpy as jnp
import optax

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

    ``sample(state, rng, n, temperature=1.0, labels=None)`` gives uint8 pixels; the sheets
    are ``num_samples`` samples at each of ``temperatures`` (conditional: rows of classes).
    ``conditional=True`` models p(x | y) on a labelled dataset; ``classifier_weight`` > 0
    (Glow only) adds the auxiliary classifier, whose test accuracy eval reports.
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
        conditional: bool = False,
        classifier_weight: float = 0.0,
        model=None,
    ):
        if conditional and not info.num_classes:
            raise ConfigError(f'conditional=True needs labels; {info.name} has none')
        if classifier_weight and not (conditional and flow == 'glow'):
            raise ConfigError("classifier_weight > 0 needs conditional=True and flow='glow'")
        self.num_classes = info.num_classes if conditional else 0
        if model is None:
            if flow not in FLOWS:
                raise ConfigError(f'unknown flow {flow!r}; choose one of {sorted(FLOWS)}')
            fixed = {'image_shape': tuple(info.image_shape), 'num_levels': info.num_levels}
            if classifier_weight:
                fixed['num_classes'] = info.num_classes
            model = build_model(FLOWS[flow], config.model, **fixed)
        self.model = model
        self.classifier_weight = classifier_weight
        self.num_levels = model.num_levels
        self.temperatures = tuple(float(t) for t in temperatures)
        self.num_samples = num_samples
        self.optimizers = build_optimizers(config, ('flow',))

    def context(self, labels):
        """The one-hot context of ``labels`` (None for an unconditional model)."""
        return jax.nn.one_hot(labels, self.num_classes) if self.num_classes else None

    def init(self, rng, batch) -> TrainState:
        """``Task.init``: a fresh ``TrainState`` whose parameters are initialised from ``batch`` (ActNorm initialises
        from this batch, dequantised).
        """
        init_key, noise_key, state_key = jax.random.split(rng, 3)
        x = images.dequantize(noise_key, batch['image'], self.num_levels)
        context = self.context(batch['label']) if self.num_classes else None
        variables = dict(self.model.init({'params': init_key}, x, context=context))  # ActNorm sees this batch
        variables.pop('intermediates', None)
        params = variables.pop('params')
        return TrainState.create(state_key, {'flow': params}, self.optimizers, aux={'flow': variables})

    def _bpd_and_logits(self, variables, batch, rng):
        """Per-example bits/dim of log p(x) (or log p(x | y)) and the classifier's logits (or None)."""
        context = self.context(batch['label']) if self.num_classes else None
        bpd, found = self.model.apply(
            variables, batch['image'], rng, context, method=self.model.bits_per_dim, mutable=['intermediates']
        )
        logits = found.get('intermediates', {}).get('logits')
        return bpd, (logits[0] if logits else None)

    def loss(self, params, other, batch, rng):
        """Mean bits/dim under uniform dequantisation, -log p(x [| y]) / (D ln 2) + log2(num_levels), plus
        ``classifier_weight`` x the classifier's cross-entropy (Glow, sec. 5).
        """
        bpd, logits = self._bpd_and_logits({'params': params, **other}, batch, rng)
        bpd = jnp.mean(bpd)
        metrics = {'bpd': bpd}
        loss = bpd
        if self.classifier_weight:
            xent = jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits, batch['label']))
            loss = bpd + self.classifier_weight * xent
            metrics['classifier_xent'] = xent
        return loss, metrics

    def train_step(self, state, batch, rng):
        """``Task.train_step``: one optimiser step on the mean bits/dim (of log p(x | y) for a conditional model);
        returns the new state and the step's scalar metrics.
        """
        batch = {k: batch[k] for k in ('image', 'label') if k in batch and (k == 'image' or self.num_classes)}
        return state.minimize('flow', self.loss, state.aux['flow'], batch, rng)

    def eval_step(self, state, batch, rng):
        """``Task.eval_step``: per-example bits/dim (``bpd``) of shape (N,), and ``classifier_accuracy`` when the
        classifier is trained (the loop drops padding and averages).
        """
        bpd, logits = self._bpd_and_logits(state.variables('flow'), batch, rng)
        values = {'bpd': bpd}
        if self.classifier_weight:
            values['classifier_accuracy'] = (jnp.argmax(logits, -1) == batch['label']).astype(jnp.float32)
        return values

    def sample(self, state, rng, n: int, temperature=1.0, labels=None):
        """``n`` samples at ``temperature`` as uint8 pixels (N, H, W, C) in [0, num_levels).

        A conditional model draws class ``labels[i]`` (int (n,)) for sample i; without
        ``labels`` the classes cycle 0, 1, ..., num_classes - 1, 0, ...
        """
        if self.num_classes and labels is None:
            labels = jnp.arange(n) % self.num_classes
        if labels is not None and not self.num_classes:
            raise ValueError('labels= needs a conditional model (task_kwargs conditional=True)')
        if labels is not None and jnp.shape(labels) != (n,):
            raise ValueError(f'expected labels of shape ({n},), got {jnp.shape(labels)}')
        return self._sample(state, rng, n, jnp.asarray(temperature, jnp.float32), labels)

    @jit_method(static_argnames='n')
    def _sample(self, state, rng, n, temperature, labels):
        context = None if labels is None else self.context(labels)
        x = self.model.apply(state.variables('flow'), rng, n, temperature, context, method=self.model.sample)
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
