"""``GLANNTask``: GLO, then IMLE in latent space (Hoshen, Li & Malik 2019), through the shared loop.

Steps before ``glo_steps`` (GLO, Bojanowski et al. 2018):

    x_i = (pixels + 1/2) / L in [0, 1],  z_i = latents[row of x_i]
    L   = mean_i d(G(z_i), x_i)             d: 'l2' or 'laplacian' (zoo.ebm.imle)
    G by its optimizer; z_i <- project_sphere(z_i - latent_lr grad_{z_i} sum_i d)

Steps from ``glo_steps`` on (IMLE on the learned latents, Li & Malik 2018):

    e_j ~ N(0, I), j < pool_factor * batch;  L = mean_i min_j |z_i - T(e_j)|^2

so that sampling is x = G(T(e)).  Networks ``'generator'`` and ``'mapper'``
(architectures from ``config.model['generator']`` / ``['mapper']``); the per-image latents
live in ``state.aux['latents']`` and are checkpointed with it.  The training images are
read once when the task is built, to find each batch image's latent
(``zoo.ebm.image_index``).  Evaluation: ``nn_distance``, each test image's distance to its
nearest of ``eval_pool`` samples G(T(e)) (low when samples cover the data).
"""

import jax
import jax.numpy as jnp
import numpy as np
import optax

from zoo.ebm import imle
from zoo.ebm.generator import LatentMapper, MLPGenerator
from zoo.ebm.image_index import ImageIndex
from zoo.train.config import ConfigError
from zoo.train.optim import build_optimizers
from zoo.train.state import TrainState
from zoo.train.task import Task
from zoo.viz.image_grid import make_grid


def training_images(config) -> np.ndarray:
    """Every image of ``config.dataset``'s train split, in its stored order (all of it on every
    host: each host's index must know the rows of the others' images too)."""
    from zoo import data  # the data layer, only when no images are handed in
    dataset = data.open_dataset(config.dataset, data_dir=config.data_dir, image_size=config.image_size,
                                validation_fraction=config.validation_fraction)
    batches = dataset.eval_batches(1000, 'train', process_index=0, process_count=1)
    chunks = [np.asarray(b['image'])[np.asarray(b['mask'], bool)] for b in batches]
    return np.concatenate(chunks)


class GLANNTask(Task):
    """GLO then IMLE; ``glo_steps`` (default two thirds of the run) splits the two phases."""

    watch = 'glo_loss'   # the IMLE phase's loss has another scale; the guard watches GLO's
    headline = 'nn_distance'

    def __init__(self, info, config, latent_dim: int = 16, noise_dim: int = 16, glo_steps: int | None = None,
                 distance: str = 'laplacian', levels: int = 2, latent_lr: float = 1.0, pool_factor: int = 10,
                 chunk_size: int = 1024, eval_pool: int = 512, num_samples: int = 64, train_images=None):
        if distance not in imle.DISTANCES:
            raise ConfigError(f'unknown distance {distance!r}; choose one of {imle.DISTANCES}')
        unknown = sorted(set(config.model) - {'generator', 'mapper'})
        if unknown:
            raise ConfigError(f'config.model has {unknown}; GLANN takes model=dict(generator=..., mapper=...)')
        self.info, self.shape = info, tuple(info.image_shape)
        self.generator = MLPGenerator(self.shape, **config.model.get('generator', {}))
        self.mapper = LatentMapper(latent_dim, **config.model.get('mapper', {}))
        self.latent_dim, self.noise_dim, self.distance, self.levels = latent_dim, noise_dim, distance, levels
        self.glo_steps = config.steps * 2 // 3 if glo_steps is None else glo_steps
        self.latent_lr, self.pool_factor, self.chunk_size = latent_lr, pool_factor, chunk_size
        self.eval_pool, self.num_samples = eval_pool, num_samples
        self.index = ImageIndex(training_images(config) if train_images is None else train_images)
        self.optimizers = build_optimizers(config, ('generator', 'mapper'))
        self._sheets = jax.jit(self._sheet_pixels)

    def init(self, rng, batch) -> TrainState:
        k_gen, k_map, k_latents, k_state = jax.random.split(rng, 4)
        params = {'generator': self.generator.init(k_gen, jnp.zeros((1, self.latent_dim)))['params'],
                  'mapper': self.mapper.init(k_map, jnp.zeros((1, self.noise_dim)))['params']}
        latents = imle.init_latents(k_latents, self.index.size, self.latent_dim)
        return TrainState.create(k_state, params, self.optimizers, aux={'latents': latents})

    def _pixels_to_unit(self, pixels):
        return (pixels.astype(jnp.float32) + 0.5) / self.info.num_levels

    def _features(self, x):
        return imle.features(x, self.distance, self.levels)

    def _glo_step(self, state, batch, rng):
        x = self._pixels_to_unit(batch['image'])
        rows, found = self.index.lookup(batch['image'])
        weight = found.astype(jnp.float32) / jnp.maximum(jnp.sum(found), 1)  # unknown images do not train

        def loss_fn(params, z):
            d = imle.paired_distance(self._features(self.generator.apply({'params': params}, z)),
                                     self._features(x), self.distance)
            return jnp.sum(weight * d)

        loss, (g_params, g_z) = jax.value_and_grad(loss_fn, argnums=(0, 1))(
            state.params['generator'], state.aux['latents'][rows])
        state = state.apply_gradients('generator', g_params, self.optimizers['generator'])
        # Each latent follows its own image's loss d_i, whatever the batch size: undo the 1/B.
        per_image = jnp.where(found[:, None], g_z * jnp.sum(found), 0.0)
        latents = imle.sphere_sgd(state.aux['latents'], rows, per_image, self.latent_lr)
        state = state.replace(aux={**state.aux, 'latents': latents})
        return state, self._metrics(loss, loss, jnp.zeros(()), found)

    def _imle_step(self, state, batch, rng):
        rows, found = self.index.lookup(batch['image'])
        z = jax.lax.stop_gradient(state.aux['latents'][rows])
        noise = jax.random.normal(rng, (self.pool_factor * z.shape[0], self.noise_dim))

        def loss_fn(params):
            return imle.imle_loss(z, self.mapper.apply({'params': params}, noise), 'l2',
                                  chunk_size=self.chunk_size)[0]

        loss, grads = jax.value_and_grad(loss_fn)(state.params['mapper'])
        state = state.apply_gradients('mapper', grads, self.optimizers['mapper'])
        return state, self._metrics(loss, jnp.zeros(()), loss, found)

    @staticmethod
    def _metrics(loss, glo_loss, imle_loss, found):
        return {'loss': loss, 'glo_loss': glo_loss, 'imle_loss': imle_loss,
                'unmatched': jnp.mean(1.0 - found.astype(jnp.float32))}

    def train_step(self, state, batch, rng):
        return jax.lax.cond(state.step < self.glo_steps, self._glo_step, self._imle_step, state, batch, rng)

    def generate(self, params: dict, rng, num: int) -> jax.Array:
        """x = G(T(e)), e ~ N(0, I): ``num`` images in [0, 1]."""
        z = self.mapper.apply({'params': params['mapper']}, jax.random.normal(rng, (num, self.noise_dim)))
        return self.generator.apply({'params': params['generator']}, z)

    def eval_step(self, state, batch, rng):
        params = {name: state.averaged(name) for name in ('generator', 'mapper')}
        pool = self._features(self.generate(params, rng, self.eval_pool))
        _, d = imle.nearest_neighbours(self._features(self._pixels_to_unit(batch['image'])), pool, self.distance,
                                       self.chunk_size)
        return {'nn_distance': d}

    def _to_pixels(self, x):
        return jnp.clip(jnp.floor(x * self.info.num_levels), 0, self.info.num_levels - 1).astype(jnp.uint8)

    def _sheet_pixels(self, params, latents, rng):
        samples = self.generate(params, rng, self.num_samples)
        fits = self.generator.apply({'params': params['generator']}, latents[:self.num_samples])
        return self._to_pixels(samples), self._to_pixels(fits)

    def sample(self, state, rng, num: int) -> np.ndarray:
        """``num`` samples G(T(e)) as uint8 pixels (with the EMA parameters where kept)."""
        params = {name: state.averaged(name) for name in ('generator', 'mapper')}
        return np.asarray(self._to_pixels(jax.jit(self.generate, static_argnums=2)(params, rng, num)))

    def visualize(self, state, rng):
        """Samples G(T(e)), and GLO's fits G(z_i) of the first training images."""
        params = {name: state.averaged(name) for name in ('generator', 'mapper')}
        samples, fits = self._sheets(params, state.aux['latents'], rng)
        return {'samples': make_grid(np.asarray(samples), self.info.num_levels),
                'glo_fits': make_grid(np.asarray(fits), self.info.num_levels)}
