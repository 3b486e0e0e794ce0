"""``GANTask``: adversarial training through the shared loop.

Two networks, 'generator' and 'critic', each with its own optimizer
(``config.optimizers['critic']`` overrides ``config.optimizer`` for the critic;
``ema_decay`` on the generator's gives the parameter EMA that samples use).
``loss`` picks the game:

    fgan      f-GAN with any row of ``zoo.gan.divergences`` (Nowozin et al. 2016)
    wgan      Wasserstein critic (Arjovsky et al. 2017); give it a Lipschitz constraint
    hinge     hinge loss (Lim & Ye 2017; SN-GAN)
    one_loss  one loss, one gradient step for both networks via a stop-gradient (SPEC 5)
    ogan      O-GAN (Su 2019): the critic is an encoder E: x -> R^latent_dim, D = mean(E),
              GAN-QP penalty, Pearson correlation rho(z, E(G(z))) in both losses

and ``lipschitz`` the critic's constraint: 'spectral' (normalisation in the forward
pass, power-iteration vectors in ``state.aux['critic']``), 'gradient_penalty',
'one_sided_penalty', 'clip' (weights after each update) or 'none'.

Alternating updates: ``critic_steps`` critic updates (same real batch, fresh z each),
then one generator update against the updated critic.  ``watch`` is None: GAN losses
oscillate by nature, so the guard only checks that metrics stay finite.

Data: integer pixels are scaled to x = 2 p / (L - 1) - 1 in [-1, 1] (the generator ends
in tanh); float batches (2-D points) are used as they are.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np

from zoo import lipschitz
from zoo.gan import divergences, losses
from zoo.gan.nets import DCGANCritic, DCGANGenerator, MLPCritic, MLPGenerator
from zoo.train.config import ConfigError
from zoo.train.optim import build_optimizers
from zoo.train.state import TrainState
from zoo.train.task import Task
from zoo.viz.image_grid import make_grid

LOSSES = ('fgan', 'wgan', 'hinge', 'one_loss', 'ogan')
LIPSCHITZ = ('none', 'spectral', 'gradient_penalty', 'one_sided_penalty', 'clip')
NETS = ('dcgan', 'mlp')


def _choice(name, value, options):
    if value not in options:
        raise ConfigError(f'{name}={value!r}: choose one of {list(options)}')


def build_networks(net: str, data_shape: tuple, latent_dim: int, model: dict, spectral: bool, critic_out: int,
                   pixels: bool):
    """(generator, critic) for data of ``data_shape``; ``model`` may hold 'generator' and 'critic' kwargs."""
    _choice('net', net, NETS)
    unknown = sorted(set(model) - {'generator', 'critic'})
    if unknown:
        raise ConfigError(f"model settings {unknown}: give them as model.generator.<name> or model.critic.<name>")
    g_kwargs, c_kwargs = dict(model.get('generator', {})), dict(model.get('critic', {}))
    try:
        if net == 'dcgan':
            if len(data_shape) != 3:
                raise ConfigError(f'net=dcgan needs (H, W, C) images, got data of shape {data_shape}; use net=mlp')
            return (DCGANGenerator(tuple(data_shape), **g_kwargs),
                    DCGANCritic(out_features=critic_out, spectral=spectral, **c_kwargs))
        return (MLPGenerator(out_dim=math.prod(data_shape), output_tanh=pixels, **g_kwargs),
                MLPCritic(out_features=critic_out, spectral=spectral, **c_kwargs))
    except TypeError as e:
        raise ConfigError(f'model settings for net={net}: {e}') from e


class GANTask(Task):
    """A generator and a critic trained adversarially (see the module docstring for the options)."""

    watch = None
    lower_is_better = True

    def __init__(self, info, config, loss: str = 'fgan', divergence: str = 'js',
                 generator_objective: str = 'non_saturating', lipschitz: str = 'none',
                 penalty_weight: float = 10.0, clip_limit: float = 0.01, critic_steps: int = 1,
                 latent_dim: int = 64, net: str = 'dcgan', num_samples: int = 64, one_loss_weight: float = 1.0,
                 corr_weight: float = 0.5, qp_weight: float = 2.0, qp_distance: str = 'l2_squared'):
        _choice('loss', loss, LOSSES)
        _choice('lipschitz', lipschitz, LIPSCHITZ)
        _choice('generator_objective', generator_objective, losses.GENERATOR_OBJECTIVES)
        if loss == 'ogan' and lipschitz in ('gradient_penalty', 'one_sided_penalty'):
            raise ConfigError('loss=ogan constrains its encoder with the GAN-QP penalty; use lipschitz=none or spectral')
        if critic_steps < 1:
            raise ConfigError(f'critic_steps must be >= 1, got {critic_steps}')
        try:
            self.divergence = divergences.get(divergence)
        except ValueError as e:
            raise ConfigError(str(e)) from e
        self.info, self.loss, self.lipschitz = info, loss, lipschitz
        self.generator_objective, self.penalty_weight, self.clip_limit = generator_objective, penalty_weight, clip_limit
        self.critic_steps, self.latent_dim, self.num_samples = critic_steps, latent_dim, num_samples
        self.one_loss_weight, self.corr_weight, self.qp_weight, self.qp_distance = (
            one_loss_weight, corr_weight, qp_weight, qp_distance)
        self.pixels = info.num_levels is not None
        self.data_shape = tuple(info.image_shape)
        self.generator, self.critic = build_networks(
            net, self.data_shape, latent_dim, config.model, lipschitz == 'spectral',
            latent_dim if loss == 'ogan' else 1, self.pixels)
        self.optimizers = build_optimizers(config, ('generator', 'critic'))
        self.headline = 'divergence_bound' if loss == 'fgan' else 'critic_gap'
        self._sample = jax.jit(self._sample_data, static_argnums=2)

    # ---- data and networks -------------------------------------------------------------
    def to_model_space(self, data):
        """Integer pixels -> x = 2 p / (L - 1) - 1 in [-1, 1]; float data unchanged."""
        if jnp.issubdtype(data.dtype, jnp.integer):
            return data.astype(jnp.float32) * (2.0 / (self.info.num_levels - 1)) - 1.0
        return data.astype(jnp.float32)

    def to_data(self, x):
        """Inverse of ``to_model_space``: pixels (uint8) for image data, x itself for points."""
        if not self.pixels:
            return x
        p = jnp.round((x + 1.0) * (0.5 * (self.info.num_levels - 1)))
        return jnp.clip(p, 0, self.info.num_levels - 1).astype(jnp.uint8)

    def latents(self, rng, n: int):
        """z ~ N(0, I_latent_dim), shape (n, latent_dim)."""
        return jax.random.normal(rng, (n, self.latent_dim))

    def generate(self, generator_params, z):
        """G(z) in model space, shaped like the data."""
        return self.generator.apply({'params': generator_params}, z).reshape((z.shape[0],) + self.data_shape)

    def score(self, critic_params, spectral, x, update_stats: bool = False):
        """(critic output, spectral collection): scores (N,) or O-GAN codes (N, latent_dim).

        With ``update_stats`` the power-iteration vectors advance and the new ones are
        returned; otherwise ``spectral`` comes back unchanged.  Both use the same sigma.
        """
        variables = {'params': critic_params, **spectral}
        if not update_stats or self.lipschitz != 'spectral':
            return self.critic.apply(variables, x), spectral
        out, updates = self.critic.apply(variables, x, update_stats=True, mutable=['spectral'])
        return out, dict(updates)

    def init(self, rng, batch) -> TrainState:
        g_key, c_key, state_key = jax.random.split(rng, 3)
        x = self.to_model_space(batch['image'])
        g_params = self.generator.init(g_key, self.latents(g_key, x.shape[0]))['params']
        c_vars = dict(self.critic.init(c_key, x))
        c_params = c_vars.pop('params')
        return TrainState.create(state_key, {'generator': g_params, 'critic': c_params}, self.optimizers,
                                 aux={'critic': c_vars})

    # ---- losses ------------------------------------------------------------------------
    def _critic_objective(self, s_real, s_fake, x_real, fake, z):
        if self.loss == 'fgan':
            return losses.fgan_critic_loss(self.divergence, s_real, s_fake)
        if self.loss == 'wgan':
            return losses.wgan_critic_loss(s_real, s_fake)
        if self.loss == 'hinge':
            return losses.hinge_critic_loss(s_real, s_fake)
        distance = losses.pair_distance(x_real, fake, self.qp_distance)
        return losses.ogan_critic_loss(s_real, s_fake, z, distance, self.qp_weight, self.corr_weight)

    def _penalty(self, critic_params, spectral, x_real, fake, key):
        if self.lipschitz not in ('gradient_penalty', 'one_sided_penalty'):
            return jnp.zeros(())
        critic = lambda x: self.score(critic_params, spectral, x)[0]
        return lipschitz.gradient_penalty(critic, key, x_real, fake, self.penalty_weight,
                                          one_sided=self.lipschitz == 'one_sided_penalty')

    def _gap(self, s_real, s_fake):
        if self.loss == 'ogan':
            s_real, s_fake = losses.ogan_score(s_real), losses.ogan_score(s_fake)
        return jnp.mean(s_real) - jnp.mean(s_fake)

    def critic_loss(self, critic_params, spectral, generator_params, x_real, rng):
        """The critic's loss (+ gradient penalty) on a real batch and fresh fakes; aux (spectral, metrics)."""
        z_key, gp_key = jax.random.split(rng)
        z = self.latents(z_key, x_real.shape[0])
        fake = jax.lax.stop_gradient(self.generate(generator_params, z))
        scores, new_spectral = self.score(critic_params, spectral, jnp.concatenate([x_real, fake]), True)
        s_real, s_fake = jnp.split(scores, 2)
        objective = self._critic_objective(s_real, s_fake, x_real, fake, z)
        penalty = self._penalty(critic_params, spectral, x_real, fake, gp_key)
        metrics = {'critic_loss': objective, 'critic_gap': self._gap(s_real, s_fake)}
        if self.lipschitz.endswith('penalty'):
            metrics['gradient_penalty'] = penalty
        if self.loss == 'fgan':
            metrics['divergence_bound'] = -objective
        return objective + penalty, (new_spectral, metrics)

    def generator_loss(self, generator_params, critic_params, spectral, x_real, rng):
        """The generator's loss against the current critic; aux metrics."""
        z = self.latents(rng, x_real.shape[0])
        s_fake = self.score(critic_params, spectral, self.generate(generator_params, z))[0]
        if self.loss == 'fgan':
            loss = losses.fgan_generator_loss(self.divergence, s_fake, self.generator_objective)
        elif self.loss == 'ogan':
            codes_real = self.score(critic_params, spectral, x_real)[0]
            loss = losses.ogan_generator_loss(codes_real, s_fake, z, self.corr_weight)
            return loss, {'generator_loss': loss, 'correlation': jnp.mean(losses.pearson_correlation(z, s_fake))}
        else:
            loss = losses.wgan_generator_loss(s_fake)
        return loss, {'generator_loss': loss}

    def one_loss(self, params, spectral, x_real, rng):
        """SPEC 5's single loss of both networks' parameters; aux (spectral, metrics)."""
        z = self.latents(rng, x_real.shape[0])
        fake = self.generate(params['generator'], z)
        scores, new_spectral = self.score(params['critic'], spectral,
                                          jnp.concatenate([x_real, jax.lax.stop_gradient(fake)]), True)
        d_real, d_fake_detached = jnp.split(scores, 2)
        # The same critic weights (same stored u, same sigma) as the detached call: the term is exactly 0.
        d_fake = self.score(params['critic'], spectral, fake)[0]
        loss = losses.one_loss_gan(d_real, d_fake_detached, d_fake, self.one_loss_weight)
        # The seed scores real data low, so its gap is fake minus real.
        return loss, (new_spectral, {'loss': loss, 'critic_gap': jnp.mean(d_fake_detached) - jnp.mean(d_real)})

    # ---- the step ----------------------------------------------------------------------
    def _critic_update(self, state, x_real, rng):
        (_, (spectral, metrics)), grads = jax.value_and_grad(self.critic_loss, has_aux=True)(
            state.params['critic'], state.aux['critic'], state.params['generator'], x_real, rng)
        state = state.apply_gradients('critic', grads, self.optimizers['critic'])
        if self.lipschitz == 'clip':
            state = state.replace(params={**state.params,
                                          'critic': lipschitz.clip_weights(state.params['critic'], self.clip_limit)})
        return state.replace(aux={**state.aux, 'critic': spectral}), metrics

    def _generator_update(self, state, x_real, rng):
        grads, metrics = jax.grad(self.generator_loss, has_aux=True)(
            state.params['generator'], state.params['critic'], state.aux['critic'], x_real, rng)
        return state.apply_gradients('generator', grads, self.optimizers['generator']), metrics

    def _one_loss_update(self, state, x_real, rng):
        params = {'generator': state.params['generator'], 'critic': state.params['critic']}
        grads, (spectral, metrics) = jax.grad(self.one_loss, has_aux=True)(params, state.aux['critic'], x_real, rng)
        for name in ('critic', 'generator'):
            state = state.apply_gradients(name, grads[name], self.optimizers[name])
        return state.replace(aux={**state.aux, 'critic': spectral}), metrics

    def train_step(self, state, batch, rng):
        x_real = self.to_model_space(batch['image'])
        keys = jax.random.split(rng, self.critic_steps + 1)
        if self.loss == 'one_loss':
            return self._one_loss_update(state, x_real, keys[0])
        for key in keys[:-1]:
            state, critic_metrics = self._critic_update(state, x_real, key)
        state, generator_metrics = self._generator_update(state, x_real, keys[-1])
        return state, {**critic_metrics, **generator_metrics}

    # ---- evaluation and pictures -------------------------------------------------------
    def eval_step(self, state, batch, rng):
        """Per-example terms whose means are the critic's estimates on data vs the (EMA) generator."""
        x_real = self.to_model_space(batch['image'])
        z = self.latents(rng, x_real.shape[0])
        fake = self.generate(state.averaged('generator'), z)
        params, spectral = state.params['critic'], state.aux['critic']
        s_real, s_fake = self.score(params, spectral, x_real)[0], self.score(params, spectral, fake)[0]
        if self.loss == 'fgan':
            return {'divergence_bound': self.divergence.activation(s_real)
                    - self.divergence.conjugate_of_activation(s_fake)}
        if self.loss == 'one_loss':
            return {'critic_gap': s_fake - s_real}
        if self.loss != 'ogan':
            return {'critic_gap': s_real - s_fake}
        recon = self.reconstruct_model_space(state, x_real)
        return {'critic_gap': losses.ogan_score(s_real) - losses.ogan_score(s_fake),
                'correlation': losses.pearson_correlation(z, s_fake),
                'reconstruction_mse': jnp.mean(jnp.square(recon - x_real).reshape(x_real.shape[0], -1), axis=1)}

    def reconstruct_model_space(self, state, x):
        """O-GAN's reconstruction G(normalise(E(x))) (EMA generator), in model space."""
        codes = self.score(state.params['critic'], state.aux['critic'], x)[0]
        return self.generate(state.averaged('generator'), losses.normalize_code(codes))

    def _sample_data(self, generator_params, rng, n):
        return self.to_data(self.generate(generator_params, self.latents(rng, n)))

    def sample(self, state, rng, n: int):
        """n samples from the (EMA) generator: uint8 pixels for image data, points otherwise."""
        return np.asarray(self._sample(state.averaged('generator'), rng, n))

    def visualize(self, state, rng):
        """A sheet of samples (images) or a scatter plot (2-D points), from the same noise at every call."""
        samples = self.sample(state, rng, self.num_samples if self.pixels else 2000)
        if self.pixels:
            return {'samples': make_grid(samples, self.info.num_levels)}
        from zoo.gan.plots import scatter_image
        return {'samples': scatter_image(samples)}
