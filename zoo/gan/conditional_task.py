"""``ConditionalGANTask``: a class-conditional GAN, with any game of ``zoo.gan.games`` that
scores with one number per example.

    critic     f(x, y) = psi(phi(x)) + <V y, phi(x)>, spectrally normalised  (Miyato & Koyama 2018)
    generator  G(z, y), DCGAN with class-conditional batch normalisation     (``zoo.gan.conditional``)

The label travels with its example, so ``GANTask``'s games, constraints and updates run
unchanged: a latent is [z, one-hot y] (y uniform over the classes), and an example in model
space is the image with the one-hot label appended as K constant channels.  The critic reads
the label back from those channels; ``to_data`` drops them.  A gradient penalty interpolates
the label channels along with the images.  O-GAN's critic returns a code, not a score, so it
has no projection form: that game is refused.

``sample(state, rng, n, labels=None)`` draws the requested classes (default: cycling 0..K-1).
"""

import dataclasses

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from zoo import images
from zoo.gan.conditional import ConditionalDCGANGenerator, ProjectionCritic
from zoo.gan.task import GANTask
from zoo.tasks import build_model
from zoo.train.config import ConfigError
from zoo.train.state import TrainState
from zoo.train.task import jit_method
from zoo.vae.conditional import label_channels


class LabelledGenerator(nn.Module):
    """[z, y] (N, latent + K) -> [G(z, y), y as K channels] (N, H, W, C + K)."""

    image_shape: tuple
    num_classes: int
    channels: int = 64

    @nn.compact
    def __call__(self, zy):
        """[z, y] (N, latent + K) -> [G(z, y), y as K channels] (N, H, W, C + K)."""
        z, y = zy[:, : -self.num_classes], zy[:, -self.num_classes :]
        x = ConditionalDCGANGenerator(self.image_shape, self.channels, name='generator')(z, y)
        return label_channels(x, y)


class LabelledProjectionCritic(nn.Module):
    """Images with K label channels -> ``ProjectionCritic`` scores (N,)."""

    num_classes: int
    channels: int = 64
    spectral: bool = True
    pool: str = 'flatten'

    @nn.compact
    def __call__(self, xy, update_stats: bool = False):
        """Images with K label channels (N, H, W, C + K) -> ``ProjectionCritic`` scores (N,)."""
        x, y = xy[..., : -self.num_classes], xy[:, 0, 0, -self.num_classes :]
        return ProjectionCritic(self.channels, self.spectral, self.pool, name='critic')(x, y, update_stats)


class ConditionalGANTask(GANTask):
    """``GANTask`` with labels: see the module docstring; settings as ``GANTask`` (net='dcgan')."""

    def __init__(self, info, config, game: str = 'hinge', lipschitz: str = 'spectral', **settings):
        if not info.num_classes or info.key != 'image':
            raise ConfigError(f'the conditional GAN needs labelled images; {info.name} has none')
        if game == 'ogan':
            raise ConfigError("game 'ogan' needs a critic that outputs codes; the projection critic outputs a score")
        if settings.get('net', 'dcgan') != 'dcgan':
            raise ConfigError("the conditional GAN uses net='dcgan'")
        model = config.model
        # GANTask builds (and checks) unconditional nets from config.model first; the projection
        # critic's own settings are left out of that copy, the nets are replaced below.
        plain = {**model, 'critic': {k: v for k, v in model.get('critic', {}).items() if k != 'pool'}}
        super().__init__(info, dataclasses.replace(config, model=plain), game=game, lipschitz=lipschitz, **settings)
        k = self.num_classes = info.num_classes
        self.generator = build_model(
            LabelledGenerator,
            model.get('generator', {}),
            where='model.generator',
            image_shape=self.data_shape,
            num_classes=k,
        )
        self.critic = build_model(
            LabelledProjectionCritic,
            model.get('critic', {}),
            where='model.critic',
            num_classes=k,
            spectral=self.constraint.spectral,
        )
        self.data_shape = (*self.data_shape[:2], self.data_shape[2] + k)

    def labelled(self, batch):
        """The batch's images in [-1, 1] with their one-hot labels as channels."""
        x = images.to_signed(batch['image'], self.info.num_levels)
        return label_channels(x, jax.nn.one_hot(batch['label'], self.num_classes))

    def latents(self, rng, n: int, labels=None):
        """[z, one-hot y], z ~ N(0, I), y uniform over the classes unless given."""
        z_key, y_key = jax.random.split(rng)
        if labels is None:
            labels = jax.random.randint(y_key, (n,), 0, self.num_classes)
        return jnp.concatenate(
            [jax.random.normal(z_key, (n, self.latent_dim)), jax.nn.one_hot(labels, self.num_classes)], -1
        )

    def generate(self, generator_params, z):
        """Generator output for latents ``z`` = [z, one-hot y]: images with K label channels."""
        return self.generator.apply({'params': generator_params}, z)

    def to_model_space(self, data):
        """Not available: real data needs its labels, so use ``labelled(batch)``."""
        raise NotImplementedError('the conditional GAN needs labels: use labelled(batch)')

    def to_data(self, x):
        """Model-space images (label channels dropped) -> uint8 pixels in [0, num_levels)."""
        return images.signed_to_pixels(x[..., : -self.num_classes], self.info.num_levels)

    def init(self, rng, batch) -> TrainState:
        """``Task.init``: fresh generator and critic parameters, shaped from ``batch`` with its labels."""
        g_key, c_key, state_key = jax.random.split(rng, 3)
        x = self.labelled(batch)
        g_params = self.generator.init(g_key, self.latents(g_key, x.shape[0]))['params']
        c_vars = dict(self.critic.init(c_key, x))
        c_params = c_vars.pop('params')
        return TrainState.create(
            state_key, {'generator': g_params, 'critic': c_params}, self.optimizers, aux={'critic': c_vars}
        )

    def train_step(self, state, batch, rng):
        """``Task.train_step``: one round of the game on the labelled batch; returns the new state and metrics."""
        return self._update(state, self.labelled(batch), rng)

    def eval_step(self, state, batch, rng):
        """``Task.eval_step``: the game's per-example evaluation on real labelled images and fakes of random labels."""
        x_real = self.labelled(batch)
        z = self.latents(rng, x_real.shape[0])
        x_fake = self.generate(state.averaged('generator'), z)
        outputs = self.criticize(state.params['critic'], state.aux['critic'], jnp.concatenate([x_real, x_fake]))[0]
        return self.game.evaluate(*jnp.split(outputs, 2), z)

    @jit_method(static_argnames='n')
    def _sample_labels(self, generator_params, rng, n: int, labels):
        return self.to_data(self.generate(generator_params, self.latents(rng, n, labels)))

    def sample(self, state, rng, n: int, labels=None):
        """n uint8 images (n, H, W, C) of classes ``labels`` (int (n,); default 0, 1, ..., K-1, 0, ...)."""
        labels = jnp.arange(n) % self.num_classes if labels is None else jnp.asarray(labels)
        if labels.shape != (n,):
            raise ValueError(f'expected labels of shape ({n},), got {labels.shape}')
        return np.asarray(self._sample_labels(state.averaged('generator'), rng, n, labels))
