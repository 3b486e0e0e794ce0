"""``EBMTask``: an energy-based model trained with Langevin negatives, on images or 2-D points
(Du & Mordatch 2019, "Implicit Generation and Modeling with Energy-Based Models", sec. 3).

Each step:

    x+ = data: (pixels + u) / L in [0, 1) for images (uniformly dequantised), or the points
    x0 = buffer draw (p = reuse_prob) or uniform noise in the data's box   zoo.ebm.replay_buffer
    x- = K Langevin (or MALA) steps on U from x0, clipped to the box
    buffer <- x- at the drawn slots
    L  = mean U(x+) - mean U(x-) + alpha (mean U(x+)^2 + mean U(x-)^2)    zoo.ebm.loss

One network, ``'energy'``: ``ConvEnergy`` for images (box [0, 1]), ``MLPEnergy`` for
batches of ``point`` (box [-box, box]); architecture from ``config.model``.  Its
non-trained variables (power-iteration vectors) live in ``state.aux['energy']``, the
buffer in ``state.aux['buffer']``.  Evaluation reports the energy of data and of uniform
noise per example (a trained model puts data lower: ``energy_gap`` > 0).

``reuse_prob = 0`` gives a short-run EBM (Nijkamp et al. 2019, "Learning Non-Convergent
Non-Persistent Short-Run MCMC Toward Energy-Based Model", sec. 3): every chain starts from
noise, so K-step chains from noise are the model's sampler (the buffer then only records
chain ends).  ``sample`` returns fresh chains of ``sample_steps`` from noise
(``sample_source='fresh'``, on the EMA weights when the optimizer keeps one) or
replay-buffer entries (``'buffer'``, the persistent chains IGEBM and JEM show).
"""

import jax
import jax.numpy as jnp
import numpy as np

from zoo import images
from zoo.ebm import replay_buffer
from zoo.ebm.energy import ConvEnergy, MLPEnergy
from zoo.ebm.langevin import langevin_chain, mala_chain
from zoo.ebm.loss import ebm_loss
from zoo.tasks import build_model
from zoo.train.config import ConfigError
from zoo.train.optim import build_optimizers
from zoo.train.state import TrainState
from zoo.train.task import Task, jit_method
from zoo.viz.image_grid import make_grid

SAMPLERS = ('langevin', 'mala')
SAMPLE_SOURCES = ('fresh', 'buffer')
CHUNK = 500  # fresh chains run this many at a time, to bound memory


class EBMTask(Task):
    """An EBM; sampler settings are the task's, the network's are ``config.model``."""

    watch = None  # U(x+) - U(x-) oscillates around zero by design, like a GAN's losses
    headline = 'energy_gap'

    def __init__(
        self,
        info,
        config,
        langevin_steps: int = 20,
        step_size: float = 20.0,
        noise_scale: float | None = 0.005,
        alpha: float = 1.0,
        buffer_size: int = 10_000,
        reuse_prob: float = 0.95,
        sampler: str = 'langevin',
        num_samples: int = 64,
        sample_steps: int = 100,
        sample_source: str = 'fresh',
        box: float = 4.0,
    ):
        if sampler not in SAMPLERS:
            raise ConfigError(f'unknown sampler {sampler!r}; choose one of {SAMPLERS}')
        if sample_source not in SAMPLE_SOURCES:
            raise ConfigError(f'unknown sample_source {sample_source!r}; choose one of {SAMPLE_SOURCES}')
        if langevin_steps < 1 or step_size <= 0 or alpha < 0 or box <= 0:
            raise ConfigError(
                f'need langevin_steps >= 1, step_size > 0, alpha >= 0 and box > 0; got '
                f'{langevin_steps}, {step_size}, {alpha}, {box}'
            )
        if buffer_size < config.batch_size:
            raise ConfigError(f'buffer_size {buffer_size} is smaller than the batch ({config.batch_size})')
        self.info, self.points = info, info.point_dim is not None
        if self.points:
            self.shape, self.bounds = (info.point_dim,), (-float(box), float(box))
        else:
            self.shape, self.bounds = tuple(info.image_shape), (0.0, 1.0)
        self.model = build_model(MLPEnergy if self.points else ConvEnergy, config.model)
        self.steps, self.step_size, self.noise_scale = langevin_steps, step_size, noise_scale
        self.alpha, self.buffer_size, self.reuse_prob, self.sampler = alpha, buffer_size, reuse_prob, sampler
        self.num_samples, self.sample_steps, self.sample_source = num_samples, sample_steps, sample_source
        self.optimizers = build_optimizers(config, ('energy',))

    def data(self, batch, key) -> jax.Array:
        """x+: the dequantised images in [0, 1), or the points as they are."""
        if self.points:
            return batch['point'].astype(jnp.float32)
        return images.to_unit(batch['image'], self.info.num_levels, key)

    def decode(self, x):
        """Samples as the protocol returns them: uint8 pixels, or float32 points."""
        return x if self.points else images.unit_to_pixels(x, self.info.num_levels)

    def init(self, rng, batch) -> TrainState:
        """``Task.init``: a fresh ``TrainState`` whose parameters are initialised from ``batch`` and a replay buffer of
        uniform noise in ``aux``.
        """
        k_net, k_data, k_buffer, k_state = jax.random.split(rng, 4)
        variables = dict(self.model.init(k_net, self.data(batch, k_data)))
        params = variables.pop('params')
        buffer = replay_buffer.init_buffer(k_buffer, self.buffer_size, self.shape, *self.bounds)
        return TrainState.create(
            k_state, {'energy': params}, self.optimizers, aux={'energy': variables, 'buffer': buffer}
        )

    def energy(self, variables):
        """x -> U(x) with frozen power-iteration vectors: the energy a sampler differentiates."""
        return lambda x: self.model.apply(variables, x)

    def chain(self, variables, x0, key, num_steps: int):
        """Chain ends from ``x0`` after ``num_steps`` on U, and MALA's acceptance rate (1 for Langevin)."""
        if self.sampler == 'mala':
            return mala_chain(self.energy(variables), x0, key, num_steps, self.step_size)
        x = langevin_chain(
            self.energy(variables), x0, key, num_steps, self.step_size, self.noise_scale, bounds=self.bounds
        )
        return x, jnp.ones(())

    def loss(self, params, other, x_real, x_fake):
        """The contrastive loss; the forward pass advances the power-iteration vectors."""
        x = jnp.concatenate([x_real, x_fake])
        if other:
            u, updated = self.model.apply({'params': params, **other}, x, update_stats=True, mutable=list(other))
        else:  # no power-iteration vectors
            u, updated = self.model.apply({'params': params}, x), {}
        loss, metrics = ebm_loss(u[: x_real.shape[0]], u[x_real.shape[0] :], self.alpha)
        return loss, (metrics, dict(updated))

    def train_step(self, state, batch, rng):
        """``Task.train_step``: negatives by Langevin chains from the replay buffer (or fresh noise), then one step on
        E(x+) - E(x-) + alpha (E(x+)^2 + E(x-)^2); returns the new state and the step's scalar metrics.
        """
        k_data, k_draw, k_chain = jax.random.split(rng, 3)
        x_real = self.data(batch, k_data)
        x0, slots, reused = replay_buffer.draw(
            state.aux['buffer'], k_draw, x_real.shape[0], self.reuse_prob, *self.bounds
        )
        x_fake, acceptance = self.chain(state.variables('energy', use_ema=False), x0, k_chain, self.steps)
        state, metrics = state.minimize('energy', self.loss, state.aux['energy'], x_real, x_fake, mutable=True)
        state = state.replace(aux={**state.aux, 'buffer': replay_buffer.store(state.aux['buffer'], slots, x_fake)})
        return state, {**metrics, 'reused': jnp.mean(reused.astype(jnp.float32)), 'acceptance': acceptance}

    def eval_step(self, state, batch, rng):
        """``Task.eval_step``: per-example energies of the data (``energy_data``) and of uniform noise
        (``energy_noise``) of shape (N,) (the loop drops padding and averages).
        """
        k_data, k_noise = jax.random.split(rng)
        energy = self.energy(state.variables('energy'))
        x = self.data(batch, k_data)
        noise = jax.random.uniform(k_noise, x.shape, minval=self.bounds[0], maxval=self.bounds[1])
        return {'energy_data': energy(x), 'energy_noise': energy(noise)}

    def summarize(self, values):
        """Means, and ``energy_gap`` = E(noise) - E(data): positive once the model separates them."""
        summary = super().summarize(values)
        summary['energy_gap'] = summary['energy_noise'] - summary['energy_data']
        return summary

    @jit_method(static_argnames='n')
    def fresh_samples(self, state, rng, n: int):
        """``n`` chains of ``sample_steps`` steps from uniform noise in the box (EMA weights)."""
        k_noise, k_chain = jax.random.split(rng)
        x0 = jax.random.uniform(k_noise, (n, *self.shape), minval=self.bounds[0], maxval=self.bounds[1])
        return self.decode(self.chain(state.variables('energy'), x0, k_chain, self.sample_steps)[0])

    @jit_method(static_argnames='n')
    def buffer_samples(self, state, rng, n: int):
        """``n`` distinct replay-buffer entries (persistent chains' ends), drawn at random."""
        slots = jax.random.choice(rng, state.aux['buffer'].shape[0], (n,), replace=False)
        return self.decode(state.aux['buffer'][slots])

    def sample(self, state, rng, n: int, source: str | None = None) -> np.ndarray:
        """``n`` samples (uint8 pixels or float32 points) from ``source`` (default ``sample_source``).

        'fresh': chains of ``sample_steps`` steps from uniform noise, ``CHUNK`` at a time.
        'buffer': random entries of the replay buffer, the persistent chains' ends, as IGEBM
        and JEM report.
        """
        source = source or self.sample_source
        if source not in SAMPLE_SOURCES:
            raise ValueError(f'unknown sample source {source!r}; choose one of {SAMPLE_SOURCES}')
        if source == 'buffer':
            if n > self.buffer_size:
                raise ValueError(f'cannot draw {n} samples from a replay buffer of {self.buffer_size}')
            return np.asarray(self.buffer_samples(state, rng, n))
        chunks = [
            self.fresh_samples(state, jax.random.fold_in(rng, i), min(CHUNK, n - start))
            for i, start in enumerate(range(0, n, CHUNK))
        ]
        return np.concatenate([np.asarray(c) for c in chunks])

    def visualize(self, state, batch, rng):
        """Image EBMs: fresh chains from noise, and the first ``num_samples`` of the replay buffer."""
        if self.points:
            return {}
        levels = self.info.num_levels
        return {
            'samples': make_grid(self.sample(state, rng, self.num_samples, 'fresh'), levels),
            'buffer': make_grid(np.asarray(self.decode(state.aux['buffer'][: self.num_samples])), levels),
        }
