"""``GLANNTask``: GLO, then IMLE in latent space, through the shared loop (Hoshen, Li & Malik
2019, "Non-Adversarial Image Synthesis with Generative Latent Nearest Neighbors", sec. 3).

Steps before ``glo_steps`` (GLO, Bojanowski et al. 2018, sec. 3):

    x_i = (p_i + 1/2) / L in [0, 1],  z_i = latents[index_i]     (index_i: the example's row)
    L   = mean_i d(G(z_i), x_i)             d: 'l2' or 'laplacian' (zoo.imle.imle)
    G by its optimizer; z_i <- project_sphere(z_i - latent_lr grad_{z_i} sum_i d)

Steps from ``glo_steps`` on (IMLE on the learned latents, Li & Malik 2018, sec. 3):

    e_j ~ N(0, I), j < pool_factor * batch;  L = mean_i min_j |z_i - T(e_j)|^2

so that sampling is x = G(T(e)).  G(z) = sigmoid(MLP(z)) reshaped to the image and
T(e) = MLP(e) / |MLP(e)| on GLO's sphere, both ``zoo.gan.nets.MLPGenerator`` (networks
``'generator'`` and ``'mapper'``, from ``config.model['generator']`` / ``['mapper']``).
The latents, one row per training example, live in ``state.aux['latents']`` and are
found by the batch's ``index``, so augmented images keep their latent.  Evaluation:
``nn_distance``, each test image's distance to its nearest of ``eval_pool`` samples
G(T(e)) (low when samples cover the data).
"""

import math

import jax
import jax.numpy as jnp
import optax

from zoo import images
from zoo.gan.nets import MLPGenerator
from zoo.imle import imle
from zoo.tasks import build_model
from zoo.train.config import ConfigError
from zoo.train.optim import build_optimizers
from zoo.train.state import TrainState
from zoo.train.task import Task, jit_method
from zoo.viz.image_grid import make_grid

NETWORKS = ('generator', 'mapper')


def train_size(config) -> int:
    """How many examples ``config.dataset``'s train split holds (all hosts together)."""
    from zoo import data  # the data layer, only when the task is not told the size

    dataset = data.open_dataset(
        config.dataset,
        data_dir=config.data_dir,
        image_size=config.image_size,
        validation_fraction=config.validation_fraction,
    )
    return dataset.num_examples('train', process_index=0, process_count=1)


class GLANNTask(Task):
    """GLO then IMLE; ``glo_steps`` (default two thirds of the run) splits the two phases.

    ``num_examples`` (the train split's size, one latent each) is read from the dataset
    when not given.
    """

    watch = 'glo_loss'  # the IMLE phase's loss has another scale; the guard watches GLO's
    headline = 'nn_distance'

    def __init__(
        self,
        info,
        config,
        latent_dim: int = 16,
        noise_dim: int = 16,
        glo_steps: int | None = None,
        distance: str = 'laplacian',
        levels: int = 2,
        latent_lr: float = 1.0,
        pool_factor: int = 10,
        chunk_size: int = 1024,
        eval_pool: int = 512,
        num_samples: int = 64,
        num_examples: int | None = None,
    ):
        if distance not in imle.DISTANCES:
            raise ConfigError(f'unknown distance {distance!r}; choose one of {imle.DISTANCES}')
        unknown = sorted(set(config.model) - set(NETWORKS))
        if unknown:
            raise ConfigError(f'config.model has {unknown}; GLANN takes model=dict(generator=..., mapper=...)')
        self.info, self.shape = info, tuple(info.image_shape)
        self.generator = build_model(
            MLPGenerator, config.model.get('generator', {}), where='model.generator', out_dim=math.prod(self.shape)
        )
        self.mapper = build_model(
            MLPGenerator, config.model.get('mapper', {}), where='model.mapper', out_dim=latent_dim
        )
        self.latent_dim, self.noise_dim, self.distance, self.levels = latent_dim, noise_dim, distance, levels
        self.glo_steps = config.steps * 2 // 3 if glo_steps is None else glo_steps
        self.latent_lr, self.pool_factor, self.chunk_size = latent_lr, pool_factor, chunk_size
        self.eval_pool, self.num_samples = eval_pool, num_samples
        self.num_examples = train_size(config) if num_examples is None else int(num_examples)
        self.optimizers = build_optimizers(config, NETWORKS)

    def init(self, rng, batch) -> TrainState:
        """``Task.init``: a fresh ``TrainState`` whose parameters are initialised from ``batch``: generator, noise
        mapper and one latent per training example (on the sphere).
        """
        k_gen, k_map, k_latents, k_state = jax.random.split(rng, 4)
        params = {
            'generator': self.generator.init(k_gen, jnp.zeros((1, self.latent_dim)))['params'],
            'mapper': self.mapper.init(k_map, jnp.zeros((1, self.noise_dim)))['params'],
        }
        latents = imle.init_latents(k_latents, self.num_examples, self.latent_dim)
        return TrainState.create(k_state, params, self.optimizers, aux={'latents': latents})

    def generate(self, params, z) -> jax.Array:
        """G(z): latents (N, d) -> images (N, H, W, C) in [0, 1]."""
        logits = self.generator.apply({'params': params}, z)
        return jax.nn.sigmoid(logits).reshape(z.shape[0], *self.shape)

    def map_noise(self, params, e) -> jax.Array:
        """T(e): noise (N, d_noise) -> latents on the unit sphere."""
        return imle.project_to_sphere(self.mapper.apply({'params': params}, e))

    def _features(self, x):
        return imle.features(x, self.distance, self.levels)

    def _glo_step(self, state, batch, rng):
        x = images.to_unit(batch['image'], self.info.num_levels)
        rows = batch['index']

        def loss_fn(params, z):
            return jnp.mean(
                imle.paired_distance(self._features(self.generate(params, z)), self._features(x), self.distance)
            )

        loss, (g_params, g_z) = jax.value_and_grad(loss_fn, argnums=(0, 1))(
            state.params['generator'], state.aux['latents'][rows]
        )
        state = state.apply_gradients('generator', g_params)
        # Each latent follows its own example's loss d_i, whatever the batch size: undo the 1/B.
        latents = imle.sphere_sgd(state.aux['latents'], rows, g_z * rows.shape[0], self.latent_lr)
        state = state.replace(aux={**state.aux, 'latents': latents})
        return state, {
            'loss': loss,
            'grad_norm': optax.tree.norm(g_params),
            'glo_loss': loss,
            'imle_loss': jnp.zeros(()),
        }

    def _imle_step(self, state, batch, rng):
        z = state.aux['latents'][batch['index']]
        noise = jax.random.normal(rng, (self.pool_factor * z.shape[0], self.noise_dim))

        def loss_fn(params):
            loss, _ = imle.imle_loss(z, self.map_noise(params, noise), 'l2', chunk_size=self.chunk_size)
            return loss, {}

        state, metrics = state.minimize('mapper', loss_fn)
        return state, {**metrics, 'glo_loss': jnp.zeros(()), 'imle_loss': metrics['loss']}

    def train_step(self, state, batch, rng):
        """``Task.train_step``: a GLO step (generator and the batch's latents) for the first ``glo_steps`` steps, an
        IMLE step of the mapper after; returns the new state and the step's scalar metrics.
        """
        glo = lambda: self._glo_step(state, batch, rng)
        imle_ = lambda: self._imle_step(state, batch, rng)
        return jax.lax.cond(state.step < self.glo_steps, glo, imle_)

    def from_noise(self, params: dict, rng, num: int) -> jax.Array:
        """x = G(T(e)), e ~ N(0, I): ``num`` images in [0, 1]."""
        z = self.map_noise(params['mapper'], jax.random.normal(rng, (num, self.noise_dim)))
        return self.generate(params['generator'], z)

    def eval_step(self, state, batch, rng):
        """``Task.eval_step``: per-example distance from each test image to its nearest generated sample
        (``nn_distance``) of shape (N,) (the loop drops padding and averages).
        """
        params = {name: state.averaged(name) for name in NETWORKS}
        pool = self._features(self.from_noise(params, rng, self.eval_pool))
        queries = self._features(images.to_unit(batch['image'], self.info.num_levels))
        _, d = imle.nearest_neighbours(queries, pool, self.distance, self.chunk_size)
        return {'nn_distance': d}

    @jit_method(static_argnames='n')
    def sample(self, state, rng, n: int):
        """``n`` samples G(T(e)) as uint8 pixels (with the EMA parameters where kept)."""
        params = {name: state.averaged(name) for name in NETWORKS}
        return images.unit_to_pixels(self.from_noise(params, rng, n), self.info.num_levels)

    @jit_method()
    def _glo_fits(self, state):
        fits = self.generate(state.averaged('generator'), state.aux['latents'][: self.num_samples])
        return images.unit_to_pixels(fits, self.info.num_levels)

    def visualize(self, state, batch, rng):
        """Samples G(T(e)), and GLO's fits G(z_i) of the first training examples."""
        levels = self.info.num_levels
        return {
            'samples': make_grid(self.sample(state, rng, self.num_samples), levels),
            'glo_fits': make_grid(self._glo_fits(state), levels),
        }
