"""``EBMTask``: an image energy-based model trained with Langevin negatives (Du & Mordatch 2019).

Each step (SPEC 6):

    x+ = (pixels + u) / L                     data in [0, 1], uniformly dequantised
    x0 = buffer draw (p = 0.95) or U[0, 1]    zoo.ebm.replay_buffer
    x- = K Langevin (or MALA) steps on U from x0, clipped to [0, 1]
    buffer <- x- at the drawn slots
    L  = mean U(x+) - mean U(x-) + alpha (mean U(x+)^2 + mean U(x-)^2)

One network, ``'energy'`` (``zoo.ebm.energy.ConvEnergy``, architecture from
``config.model``); its non-trained variables (power-iteration vectors) and the
buffer live in ``state.aux``.  Evaluation reports the energy of data and of uniform
noise per image (a trained model puts data lower: ``energy_gap`` > 0).  Sheets:
``samples`` (fresh chains from noise, ``sample_steps`` long) and ``buffer``.

``reuse_prob = 0`` gives a short-run EBM (Nijkamp et al. 2019): every chain starts from
noise, so K-step chains from noise are the model's sampler (the buffer then only records
chain ends).  ``sample`` -- what the offline metrics judge -- returns fresh chains from
noise (``sample_source='fresh'``, on the EMA weights when the optimizer keeps one) or
replay-buffer entries (``'buffer'``, the persistent chains IGEBM and JEM show);
``fresh_samples`` and ``buffer_samples`` give either whatever the setting.
"""

import jax
import jax.numpy as jnp
import numpy as np
import optax

from zoo.ebm import replay_buffer
from zoo.ebm.energy import ConvEnergy, energy_fn, split_variables
from zoo.ebm.langevin import langevin_chain, mala_chain
from zoo.ebm.loss import ebm_loss
from zoo.train.config import ConfigError
from zoo.train.optim import build_optimizers
from zoo.train.state import TrainState
from zoo.train.task import Task
from zoo.viz.image_grid import make_grid

SAMPLERS = ('langevin', 'mala')
SAMPLE_SOURCES = ('fresh', 'buffer')


def to_unit(key, pixels, num_levels: int) -> jax.Array:
    """x = (p + u) / L in [0, 1), u ~ U[0, 1): the EBM's data scale (IGEBM's [0, 1] images)."""
    return (pixels.astype(jnp.float32) + jax.random.uniform(key, pixels.shape)) / num_levels


def unit_to_pixels(x, num_levels: int) -> jax.Array:
    """p = clip(floor(x L), 0, L - 1): the inverse of ``to_unit``."""
    return jnp.clip(jnp.floor(x * num_levels), 0, num_levels - 1).astype(jnp.uint8)


class EBMTask(Task):
    """An image EBM; sampler settings are the task's, the network's are ``config.model``."""

    watch = None  # U(x+) - U(x-) oscillates around zero by design, like a GAN's losses
    headline = 'energy_gap'
    lower_is_better = False

    def __init__(self, info, config, langevin_steps: int = 20, step_size: float = 20.0,
                 noise_scale: float | None = 0.005, alpha: float = 1.0, buffer_size: int = 10_000,
                 reuse_prob: float = 0.95, sampler: str = 'langevin', num_samples: int = 64,
                 sample_steps: int = 100, sample_source: str = 'fresh'):
        if sampler not in SAMPLERS:
            raise ConfigError(f'unknown sampler {sampler!r}; choose one of {SAMPLERS}')
        if sample_source not in SAMPLE_SOURCES:
            raise ConfigError(f'unknown sample_source {sample_source!r}; choose one of {SAMPLE_SOURCES}')
        if langevin_steps < 1 or step_size <= 0 or alpha < 0:
            raise ConfigError(f'need langevin_steps >= 1, step_size > 0 and alpha >= 0; got '
                              f'{langevin_steps}, {step_size}, {alpha}')
        if buffer_size < config.batch_size:
            raise ConfigError(f'buffer_size {buffer_size} is smaller than the batch ({config.batch_size})')
        try:
            self.model = ConvEnergy(**config.model)
        except TypeError as e:
            raise ConfigError(f'model settings for ConvEnergy: {e}') from e
        self.info = info
        self.shape = tuple(info.image_shape)
        self.steps, self.step_size, self.noise_scale = langevin_steps, step_size, noise_scale
        self.alpha, self.buffer_size, self.reuse_prob, self.sampler = alpha, buffer_size, reuse_prob, sampler
        self.num_samples, self.sample_steps, self.sample_source = num_samples, sample_steps, sample_source
        self.optimizers = build_optimizers(config, ('energy',))
        self._fresh_samples = jax.jit(self.fresh_samples, static_argnums=3)

    def init(self, rng, batch) -> TrainState:
        k_net, k_buffer, k_state = jax.random.split(rng, 3)
        x = to_unit(k_net, batch['image'], self.info.num_levels)
        params, other = split_variables(self.model.init(k_net, x))
        buffer = replay_buffer.init_buffer(k_buffer, self.buffer_size, self.shape)
        return TrainState.create(k_state, {'energy': params}, self.optimizers,
                                 aux={'energy': other, 'buffer': buffer})

    def negatives(self, params, other, x0, key):
        """Chain ends from ``x0`` on the current energy, and MALA's acceptance rate (1 for Langevin)."""
        energy = energy_fn(self.model, params, other)
        if self.sampler == 'mala':
            return mala_chain(energy, x0, key, self.steps, self.step_size)
        x = langevin_chain(energy, x0, key, self.steps, self.step_size, self.noise_scale, bounds=(0.0, 1.0))
        return x, jnp.ones(())

    def _loss(self, params, other, x_real, x_fake):
        x = jnp.concatenate([x_real, x_fake])
        if not other:  # no power-iteration vectors to update
            u, updated = self.model.apply({'params': params}, x), {}
        else:
            u, updated = self.model.apply({'params': params, **other}, x, update_stats=True, mutable=list(other))
        loss, metrics = ebm_loss(u[:x_real.shape[0]], u[x_real.shape[0]:], self.alpha)
        return loss, (metrics, dict(updated))

    def train_step(self, state, batch, rng):
        k_data, k_draw, k_chain = jax.random.split(rng, 3)
        params, other = state.params['energy'], state.aux['energy']
        x_real = to_unit(k_data, batch['image'], self.info.num_levels)
        x0, slots, reused = replay_buffer.draw(state.aux['buffer'], k_draw, x_real.shape[0], self.reuse_prob)
        x_fake, acceptance = self.negatives(params, other, x0, k_chain)
        (loss, (metrics, other)), grads = jax.value_and_grad(self._loss, has_aux=True)(
            params, other, x_real, x_fake)
        state = state.apply_gradients('energy', grads, self.optimizers['energy'])
        buffer = replay_buffer.store(state.aux['buffer'], slots, x_fake)
        state = state.replace(aux={'energy': other, 'buffer': buffer})
        return state, {**metrics, 'loss': loss, 'grad_norm': optax.tree.norm(grads),
                       'reused': jnp.mean(reused.astype(jnp.float32)), 'acceptance': acceptance}

    def eval_step(self, state, batch, rng):
        k_data, k_noise = jax.random.split(rng)
        energy = energy_fn(self.model, state.averaged('energy'), state.aux['energy'])
        x = to_unit(k_data, batch['image'], self.info.num_levels)
        return {'energy_data': energy(x), 'energy_noise': energy(jax.random.uniform(k_noise, x.shape))}

    def summarize(self, values):
        summary = super().summarize(values)
        summary['energy_gap'] = summary['energy_noise'] - summary['energy_data']
        return summary

    def fresh_samples(self, params, other, rng, num: int):
        """``num`` chains of ``sample_steps`` Langevin steps from U[0, 1] noise, as pixels."""
        k_noise, k_chain = jax.random.split(rng)
        x0 = jax.random.uniform(k_noise, (num, *self.shape))
        x = langevin_chain(energy_fn(self.model, params, other), x0, k_chain, self.sample_steps,
                           self.step_size, self.noise_scale, bounds=(0.0, 1.0))
        return unit_to_pixels(x, self.info.num_levels)

    def buffer_samples(self, state, rng, num: int) -> np.ndarray:
        """``num`` distinct replay-buffer entries (persistent chains' ends), drawn at random, as pixels."""
        buffer = state.aux['buffer']
        if num > buffer.shape[0]:
            raise ValueError(f'cannot draw {num} samples from a replay buffer of {buffer.shape[0]}')
        slots = jax.random.choice(rng, buffer.shape[0], (num,), replace=False)
        return np.asarray(unit_to_pixels(buffer[slots], self.info.num_levels))

    def sample(self, state, rng, num: int) -> np.ndarray:
        """``num`` samples as uint8 pixels, from ``sample_source``: the images the offline
        sample-quality metrics (``experiments.gan_quality``) judge.

        'fresh': chains of ``sample_steps`` Langevin steps from U[0, 1] noise, in chunks of 500
        (``fresh_samples``).  'buffer': random entries of the replay buffer, the persistent
        chains' ends, as IGEBM and JEM report (``buffer_samples``).
        """
        if self.sample_source == 'buffer':
            return self.buffer_samples(state, rng, num)
        params, other = state.averaged('energy'), state.aux['energy']
        chunks = [self._fresh_samples(params, other, jax.random.fold_in(rng, i), min(500, num - start))
                  for i, start in enumerate(range(0, num, 500))]
        return np.concatenate([np.asarray(c) for c in chunks])

    def visualize(self, state, rng):
        """Fresh chains from noise, and the first ``num_samples`` of the replay buffer."""
        samples = self._fresh_samples(state.averaged('energy'), state.aux['energy'], rng, self.num_samples)
        buffer = unit_to_pixels(state.aux['buffer'][:self.num_samples], self.info.num_levels)
        return {'samples': make_grid(np.asarray(samples), self.info.num_levels),
                'buffer': make_grid(np.asarray(buffer), self.info.num_levels)}
