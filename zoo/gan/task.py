"""``GANTask``: a generator and a critic trained adversarially through the shared loop.

Settings (``config.task_kwargs``):

    game        the game both networks play (``zoo.gan.games``): fgan, wgan, hinge, one_loss, ogan
    lipschitz   the critic's constraint (``zoo.gan.constraints``): none, spectral,
                gradient_penalty, one_sided_penalty, clip
    net         'dcgan' (images) or 'mlp' (any data; the only choice for 2-D points)
    latent_dim  z ~ N(0, I_latent_dim)
    num_samples images on the sample sheet
    **settings  the game's and the constraint's own, e.g. divergence='kl', critic_steps=5,
                penalty_weight=10; one that neither takes is a ``ConfigError``

Two networks, 'generator' and 'critic', each with its own optimizer
(``config.optimizers['critic']`` overrides ``config.optimizer`` for the critic;
``ema_decay`` on the generator's gives the parameter EMA that samples use).  The
task holds no branch on the game: it asks the game for the losses, and either
alternates (``critic_steps`` critic updates, then one generator update against the
updated critic) or, for a ``joint`` game, takes one step of both networks on one loss.
``watch`` is None: GAN losses oscillate by nature, so the guard only checks that
metrics stay finite.

Data: images (``batch['image']``, uint8) are scaled to [-1, 1] (``zoo.images.to_signed``;
the generator ends in tanh); points (``batch['point']``, float32) are used as they are.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np

from zoo import images
from zoo.gan import games
from zoo.gan.nets import DCGANCritic, DCGANGenerator, MLPCritic, MLPGenerator
from zoo.tasks import build_model
from zoo.train.config import ConfigError
from zoo.train.optim import build_optimizers
from zoo.train.state import TrainState
from zoo.train.task import Task, jit_method
from zoo.viz.image_grid import make_grid

NETS = ('dcgan', 'mlp')


def build_networks(net: str, data_shape: tuple, model: dict, spectral: bool, critic_out: int, pixels: bool):
    """(generator, critic) for data of ``data_shape``: ``model.generator`` and ``model.critic`` hold
    their settings, checked by ``zoo.tasks.build_model``."""
    if net not in NETS:
        raise ConfigError(f'net={net!r}: choose one of {list(NETS)}')
    unknown = sorted(set(model) - {'generator', 'critic'})
    if unknown:
        raise ConfigError(f'model settings {unknown}: give them as model.generator.<name> or model.critic.<name>')
    g_settings, c_settings = model.get('generator', {}), model.get('critic', {})
    critic = dict(settings=c_settings, where='model.critic', out_features=critic_out, spectral=spectral)
    if net == 'dcgan':
        if len(data_shape) != 3:
            raise ConfigError(f'net=dcgan needs (H, W, C) images, got data of shape {data_shape}; use net=mlp')
        return (
            build_model(DCGANGenerator, g_settings, where='model.generator', image_shape=tuple(data_shape)),
            build_model(DCGANCritic, **critic),
        )
    return (
        build_model(
            MLPGenerator, g_settings, where='model.generator', out_dim=math.prod(data_shape), output_tanh=pixels
        ),
        build_model(MLPCritic, **critic),
    )


def _mean_gap(game, real, fake):
    return jnp.mean(game.score(real)) - jnp.mean(game.score(fake))


def _named(network: str, metrics: dict) -> dict:
    """``TrainState.minimize``'s 'loss' and 'grad_norm' named for the network they belong to."""
    rename = {'loss': f'{network}_loss', 'grad_norm': f'{network}_grad_norm'}
    return {rename.get(k, k): v for k, v in metrics.items()}


class GANTask(Task):
    """A generator and a critic playing ``game`` (see the module docstring for the settings)."""

    watch = None

    def __init__(
        self,
        info,
        config,
        game: str = 'fgan',
        lipschitz: str = 'none',
        net: str = 'dcgan',
        latent_dim: int = 64,
        num_samples: int = 64,
        **settings,
    ):
        self.game, self.constraint = games.configure(game, lipschitz, settings)
        for name, value in (('latent_dim', latent_dim), ('num_samples', num_samples)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f'{name} must be a positive integer, got {value!r}')
        self.info, self.latent_dim, self.num_samples = info, latent_dim, num_samples
        self.key = info.key
        self.pixels = self.key == 'image'
        self.data_shape = tuple(info.image_shape) if self.pixels else (info.point_dim,)
        self.generator, self.critic = build_networks(
            net,
            self.data_shape,
            config.model,
            self.constraint.spectral,
            self.game.critic_features(latent_dim),
            self.pixels,
        )
        self.optimizers = build_optimizers(config, ('generator', 'critic'))
        self.headline = self.game.headline
        self.inverts = hasattr(self.game, 'latent')  # the critic is also an encoder (O-GAN)
        self._update = self._joint_update if self.game.joint else self._alternating_update

    # ---- data and networks -------------------------------------------------------------
    def to_model_space(self, data):
        """Data (``batch[self.key]``) in model space: images in [-1, 1], points as they are."""
        if self.pixels:
            return images.to_signed(data, self.info.num_levels)
        return data.astype(jnp.float32)

    def to_data(self, x):
        """Model space -> data: uint8 pixels for images, float32 points otherwise."""
        return images.signed_to_pixels(x, self.info.num_levels) if self.pixels else x

    def latents(self, rng, n: int):
        """z ~ N(0, I_latent_dim), shape (n, latent_dim)."""
        return jax.random.normal(rng, (n, self.latent_dim))

    def generate(self, generator_params, z):
        """G(z) in model space, shaped like the data."""
        return self.generator.apply({'params': generator_params}, z).reshape((z.shape[0],) + self.data_shape)

    def criticize(self, critic_params, spectral, x, update_stats: bool = False):
        """(critic outputs, spectral collection): scores (N,) or O-GAN codes (N, latent_dim).

        With ``update_stats`` the power-iteration vectors advance and the new ones are
        returned; otherwise ``spectral`` comes back unchanged.  Both use the same sigma.
        """
        variables = {'params': critic_params, **spectral}
        if not update_stats or not self.constraint.spectral:
            return self.critic.apply(variables, x), spectral
        out, updates = self.critic.apply(variables, x, update_stats=True, mutable=['spectral'])
        return out, dict(updates)

    def init(self, rng, batch) -> TrainState:
        """``Task.init``: a fresh ``TrainState`` whose parameters are initialised from ``batch``: generator and critic
        parameters, the critic's spectral vectors in ``aux``.
        """
        g_key, c_key, state_key = jax.random.split(rng, 3)
        x = self.to_model_space(batch[self.key])
        g_params = self.generator.init(g_key, self.latents(g_key, x.shape[0]))['params']
        c_vars = dict(self.critic.init(c_key, x))
        c_params = c_vars.pop('params')
        return TrainState.create(
            state_key, {'generator': g_params, 'critic': c_params}, self.optimizers, aux={'critic': c_vars}
        )

    # ---- losses ------------------------------------------------------------------------
    def _penalties(self, critic_params, spectral, x_real, x_fake, key) -> dict:
        score = lambda x: self.game.score(self.criticize(critic_params, spectral, x)[0])
        return self.constraint.penalty(score, key, x_real, x_fake)

    def critic_loss(self, critic_params, spectral, generator_params, x_real, rng):
        """The game's critic loss plus the constraint's penalties, on a real batch and fresh fakes.

        Returns (loss, (metrics, the critic's advanced spectral collection)).
        """
        z_key, penalty_key = jax.random.split(rng)
        z = self.latents(z_key, x_real.shape[0])
        x_fake = jax.lax.stop_gradient(self.generate(generator_params, z))
        outputs, new_spectral = self.criticize(critic_params, spectral, jnp.concatenate([x_real, x_fake]), True)
        real, fake = jnp.split(outputs, 2)
        loss, metrics = self.game.critic_loss(real, fake, x_real, x_fake, z)
        penalties = self._penalties(critic_params, spectral, x_real, x_fake, penalty_key)
        metrics = {**metrics, **penalties, 'critic_gap': _mean_gap(self.game, real, fake)}
        return loss + sum(penalties.values()), (metrics, new_spectral)

    def generator_loss(self, generator_params, critic_params, spectral, z):
        """The game's generator loss against the current critic; (loss, metrics)."""
        fake = self.criticize(critic_params, spectral, self.generate(generator_params, z))[0]
        return self.game.generator_loss(fake, z)

    def joint_loss(self, params, spectral, x_real, rng):
        """One loss of both networks' parameters (the one-loss GAN's stop-gradient construction):

            L = critic_loss(D(x), D(G_ng)) + penalties + generator_loss(D(G(z))) - generator_loss(D(G_ng))

        with G_ng = stop_gradient(G(z)).  The last two terms are equal in value and their
        critic gradients cancel; only the generator's gradient remains (``zoo.gan.games.OneLoss``).
        Returns (loss, (metrics, the critic's advanced spectral collection)).
        """
        z_key, penalty_key = jax.random.split(rng)
        z = self.latents(z_key, x_real.shape[0])
        x_fake = self.generate(params['generator'], z)
        x_fake_ng = jax.lax.stop_gradient(x_fake)
        outputs, new_spectral = self.criticize(params['critic'], spectral, jnp.concatenate([x_real, x_fake_ng]), True)
        real, fake_ng = jnp.split(outputs, 2)
        critic_loss, metrics = self.game.critic_loss(real, fake_ng, x_real, x_fake_ng, z)
        penalties = self._penalties(params['critic'], spectral, x_real, x_fake_ng, penalty_key)
        # The same critic weights (same stored u, same sigma) as the call above: the two
        # generator terms are equal in value.
        generator_loss, generator_metrics = self.game.generator_loss(
            self.criticize(params['critic'], spectral, x_fake)[0], z
        )
        loss = critic_loss + sum(penalties.values()) + generator_loss - self.game.generator_loss(fake_ng, z)[0]
        metrics = {
            **metrics,
            **penalties,
            **generator_metrics,
            'critic_loss': critic_loss,
            'generator_loss': generator_loss,
            'critic_gap': _mean_gap(self.game, real, fake_ng),
        }
        return loss, (metrics, new_spectral)

    # ---- the step ----------------------------------------------------------------------
    def _alternating_update(self, state, x_real, rng):
        keys = jax.random.split(rng, self.game.critic_steps + 1)
        for key in keys[:-1]:
            state, critic_metrics = state.minimize(
                'critic', self.critic_loss, state.aux['critic'], state.params['generator'], x_real, key, mutable=True
            )
            state = state.replace(params={**state.params, 'critic': self.constraint.project(state.params['critic'])})
        z = self.latents(keys[-1], x_real.shape[0])
        state, generator_metrics = state.minimize(
            'generator', self.generator_loss, state.params['critic'], state.aux['critic'], z
        )
        return state, {**_named('critic', critic_metrics), **_named('generator', generator_metrics)}

    def _joint_update(self, state, x_real, rng):
        (loss, (metrics, spectral)), grads = jax.value_and_grad(self.joint_loss, has_aux=True)(
            state.params, state.aux['critic'], x_real, rng
        )
        for name in ('critic', 'generator'):
            state = state.apply_gradients(name, grads[name])
        state = state.replace(
            params={**state.params, 'critic': self.constraint.project(state.params['critic'])},
            aux={**state.aux, 'critic': spectral},
        )
        return state, {**metrics, 'loss': loss}

    def train_step(self, state, batch, rng):
        """``Task.train_step``: the game's critic updates, then its generator update (or one joint update for the one-
        loss games); returns the new state and the step's scalar metrics.
        """
        return self._update(state, self.to_model_space(batch[self.key]), rng)

    # ---- evaluation, samples, pictures -------------------------------------------------
    def reconstruct_model_space(self, state, x):
        """G(normalise(E(x))) with the (EMA) generator, in model space: games whose critic encodes."""
        codes = self.criticize(state.params['critic'], state.aux['critic'], x)[0]
        return self.generate(state.averaged('generator'), self.game.latent(codes))

    def eval_step(self, state, batch, rng):
        """The game's per-example evaluation of data vs the (EMA) generator; O-GAN adds its
        reconstruction error."""
        x_real = self.to_model_space(batch[self.key])
        z = self.latents(rng, x_real.shape[0])
        x_fake = self.generate(state.averaged('generator'), z)
        outputs = self.criticize(state.params['critic'], state.aux['critic'], jnp.concatenate([x_real, x_fake]))[0]
        values = self.game.evaluate(*jnp.split(outputs, 2), z)
        if self.inverts:
            error = jnp.square(self.reconstruct_model_space(state, x_real) - x_real).reshape(x_real.shape[0], -1)
            values['reconstruction_mse'] = jnp.mean(error, axis=1)
        return values

    @jit_method(static_argnames='n')
    def _sample(self, generator_params, rng, n: int):
        return self.to_data(self.generate(generator_params, self.latents(rng, n)))

    @jit_method
    def _reconstruct_pixels(self, state, pixels):
        return self.to_data(self.reconstruct_model_space(state, self.to_model_space(pixels)))

    def sample(self, state, rng, n: int):
        """n samples from the (EMA) generator: uint8 (n, H, W, C) images, or float32 (n, D) points."""
        return np.asarray(self._sample(state.averaged('generator'), rng, n))

    def visualize(self, state, batch, rng):
        """Samples (a sheet, or a scatter plot over the batch's points); O-GAN: the batch's
        images beside their reconstructions."""
        if not self.pixels:
            from zoo.gan.plots import scatter_image

            return {'samples': scatter_image(self.sample(state, rng, 2000), real=batch['point'])}
        sheets = {'samples': make_grid(self.sample(state, rng, self.num_samples), self.info.num_levels)}
        if self.inverts:
            x = np.asarray(batch['image'][: self.num_samples // 2])
            pairs = np.stack([x, np.asarray(self._reconstruct_pixels(state, x))], 1).reshape(-1, *x.shape[1:])
            sheets['reconstructions'] = make_grid(pairs, self.info.num_levels, cols=2 * max(1, math.isqrt(len(x))))
        return sheets
