"""``VIBTask``: a classifier with a variational information bottleneck (``zoo.vae.vib``).

Training: one reparameterised z per image, loss mean(ce + beta * kl).  Evaluation gives
per-example ``correct`` with the noise off (z = mu(x)), ``correct_sampled`` with q(y|z)
averaged over ``eval_samples`` draws (the paper's 12), the cross-entropy and the KL;
``accuracy`` is the mean of ``correct``.  Pixels enter as intensities p / (L-1) in [0, 1].
Needs labels in every batch.
"""

import jax
import jax.numpy as jnp
import numpy as np

from zoo import images
from zoo.distributions import sample_diagonal_gaussian
from zoo.tasks import build_model
from zoo.train.config import ConfigError
from zoo.train.optim import build_optimizers
from zoo.train.state import TrainState
from zoo.train.task import Task
from zoo.vae.vib import VIBClassifier, vib_loss_terms


def require_labels(batch, info, task: str) -> None:
    """A clear error when a supervised task meets a dataset without labels."""
    if 'label' not in batch:
        raise ValueError(
            f'{task} trains on labels, but the batches of {info.name!r} have none '
            "(need a dataset whose batches carry 'label')"
        )


class VIBTask(Task):
    """VIB classifier: ``beta`` weighs the bottleneck's KL; architecture from ``config.model``."""

    watch = 'loss'
    headline = 'accuracy'

    def __init__(self, info, config, beta: float = 1e-3, eval_samples: int = 12):
        self.info, self.beta, self.eval_samples = info, float(beta), int(eval_samples)
        num_classes = getattr(info, 'num_classes', None) or 10
        self.model = build_model(VIBClassifier, {'num_classes': num_classes, **config.model})
        if self.beta < 0:
            raise ConfigError(f'beta must be >= 0, got {beta}')
        self.optimizers = build_optimizers(config, ('vib',))

    def inputs(self, pixels):
        """uint8 pixels -> intensities in [0, 1]."""
        return images.to_intensity(pixels, self.info.num_levels)

    def init(self, rng, batch) -> TrainState:
        """``Task.init``: a fresh ``TrainState`` whose parameters are initialised from ``batch`` (the batch must have
        labels).
        """
        require_labels(batch, self.info, 'VIB')
        init_key, state_key = jax.random.split(rng)
        params = self.model.init(init_key, self.inputs(batch['image']))['params']
        return TrainState.create(state_key, {'vib': params}, self.optimizers)

    def loss(self, params, batch, rng):
        """Mean VIB loss: E[-log q(y|z)] + beta KL(p(z|x) || N(0, I)) (Alemi et al. 2017, eq. 6), with accuracy."""
        mean, log_scale = self.model.apply({'params': params}, self.inputs(batch['image']), method=VIBClassifier.encode)
        z = sample_diagonal_gaussian(rng, mean, log_scale)
        logits = self.model.apply({'params': params}, z, method=VIBClassifier.classify)
        terms = {k: jnp.mean(v) for k, v in vib_loss_terms(logits, batch['label'], mean, log_scale, self.beta).items()}
        terms['accuracy'] = jnp.mean(jnp.argmax(logits, -1) == batch['label'])
        return terms['loss'], terms

    def train_step(self, state, batch, rng):
        """``Task.train_step``: one optimiser step on the VIB loss; returns the new state and the step's scalar
        metrics.
        """
        require_labels(batch, self.info, 'VIB')
        return state.minimize('vib', self.loss, batch, rng)

    def eval_step(self, state, batch, rng):
        """``Task.eval_step``: per-example loss terms, and correctness at the mean code and averaged over sampled codes
        of shape (N,) (the loop drops padding and averages).
        """
        require_labels(batch, self.info, 'VIB')
        apply = lambda method, *a: self.model.apply({'params': state.averaged('vib')}, *a, method=method)
        mean, log_scale = apply(VIBClassifier.encode, self.inputs(batch['image']))
        logits = apply(VIBClassifier.classify, mean)
        terms = vib_loss_terms(logits, batch['label'], mean, log_scale, self.beta)
        keys = jax.random.split(rng, self.eval_samples)
        probs = jnp.mean(
            jax.vmap(
                lambda k: jax.nn.softmax(apply(VIBClassifier.classify, sample_diagonal_gaussian(k, mean, log_scale)))
            )(keys),
            axis=0,
        )
        return {
            'correct': (jnp.argmax(logits, -1) == batch['label']).astype(jnp.float32),
            'correct_sampled': (jnp.argmax(probs, -1) == batch['label']).astype(jnp.float32),
            'cross_entropy': terms['cross_entropy'],
            'kl': terms['kl'],
        }

    def summarize(self, values):
        """Means, with ``correct`` reported as ``accuracy``."""
        summary = {k: float(np.mean(v)) for k, v in values.items()}
        summary['accuracy'] = summary.pop('correct')
        summary['accuracy_sampled'] = summary.pop('correct_sampled')
        return summary
