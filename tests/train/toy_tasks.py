"""Toy tasks that prove the Task protocol carries more than a flow.  (A helper module.)

``GanShapedTask``: two networks and two optimizers, alternating updates (critic, then
generator against the updated critic), no watched metric.
``EbmShapedTask``: one network and a sample buffer in ``state.aux`` that the step
reads, refines with Langevin steps and writes back.
``RefitTask``: a centre that SGD pulls towards each batch, moved by ``refit`` to the mean of
the whole training split (and a count of refits in ``state.aux``).
All work on flattened digits scaled to [0, 1].
"""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from zoo.train import Task, TrainState, build_optimizers
from zoo.viz.image_grid import make_grid

LATENT = 8


class MLP(nn.Module):
    features: tuple

    @nn.compact
    def __call__(self, x):
        for width in self.features[:-1]:
            x = nn.elu(nn.Dense(width)(x))
        return nn.Dense(self.features[-1])(x)


def flat_unit(info, image):
    return image.reshape(image.shape[0], -1).astype(jnp.float32) / (info.num_levels - 1)


class GanShapedTask(Task):
    watch = None
    headline = 'critic_real'

    def __init__(self, info, config, hidden: int = 32):
        self.info, dim = info, int(np.prod(info.image_shape))
        self.generator, self.critic = MLP((hidden, dim)), MLP((hidden, 1))
        self.optimizers = build_optimizers(config, ('generator', 'critic'))

    def init(self, rng, batch):
        g_key, c_key, state_key = jax.random.split(rng, 3)
        x = flat_unit(self.info, batch['image'])
        params = {
            'generator': self.generator.init(g_key, jnp.zeros((1, LATENT)))['params'],
            'critic': self.critic.init(c_key, x)['params'],
        }
        return TrainState.create(state_key, params, self.optimizers)

    def _fake(self, params, rng, n):
        return jax.nn.sigmoid(self.generator.apply({'params': params}, jax.random.normal(rng, (n, LATENT))))

    def train_step(self, state, batch, rng):
        x = flat_unit(self.info, batch['image'])

        def critic_loss(c, fake):
            real_score = self.critic.apply({'params': c}, x)
            fake_score = self.critic.apply({'params': c}, fake)
            return jnp.mean(jax.nn.softplus(-real_score) + jax.nn.softplus(fake_score))

        fake = self._fake(state.params['generator'], rng, x.shape[0])
        c_loss, c_grads = jax.value_and_grad(critic_loss)(state.params['critic'], fake)
        state = state.apply_gradients('critic', c_grads)

        def generator_loss(g):
            score = self.critic.apply({'params': state.params['critic']}, self._fake(g, rng, x.shape[0]))
            return jnp.mean(jax.nn.softplus(-score))

        g_loss, g_grads = jax.value_and_grad(generator_loss)(state.params['generator'])
        state = state.apply_gradients('generator', g_grads)
        return state, {'critic_loss': c_loss, 'generator_loss': g_loss}

    def eval_step(self, state, batch, rng):
        x = flat_unit(self.info, batch['image'])
        return {'critic_real': self.critic.apply({'params': state.params['critic']}, x)[:, 0]}

    def visualize(self, state, batch, rng):
        fake = self._fake(state.averaged('generator'), rng, 16).reshape(16, *self.info.image_shape)
        return {
            'samples': make_grid(jnp.round(fake * (self.info.num_levels - 1)).astype(jnp.uint8), self.info.num_levels)
        }


class EbmShapedTask(Task):
    watch = None
    headline = 'energy_real'

    def __init__(self, info, config, buffer_size: int = 32, langevin_steps: int = 2, step_size: float = 0.01):
        self.info, self.dim = info, int(np.prod(info.image_shape))
        self.energy = MLP((32, 1))
        self.buffer_size, self.langevin_steps, self.step_size = buffer_size, langevin_steps, step_size
        self.optimizers = build_optimizers(config, ('energy',))

    def init(self, rng, batch):
        e_key, b_key, state_key = jax.random.split(rng, 3)
        params = {'energy': self.energy.init(e_key, flat_unit(self.info, batch['image']))['params']}
        buffer = jax.random.uniform(b_key, (self.buffer_size, self.dim))
        return TrainState.create(state_key, params, self.optimizers, aux={'buffer': buffer})

    def _energy(self, params, x):
        return self.energy.apply({'params': params}, x)[:, 0]

    def train_step(self, state, batch, rng):
        x = flat_unit(self.info, batch['image'])
        pick_key, noise_key = jax.random.split(rng)
        index = jax.random.choice(pick_key, self.buffer_size, (x.shape[0],), replace=False)
        fake = state.aux['buffer'][index]
        grad_u = jax.grad(lambda y: jnp.sum(self._energy(state.params['energy'], y)))
        for key in jax.random.split(noise_key, self.langevin_steps):
            noise = jax.random.normal(key, fake.shape)
            fake = fake - 0.5 * self.step_size * grad_u(fake) + jnp.sqrt(self.step_size) * noise

        def loss_fn(p):
            real_u, fake_u = self._energy(p, x), self._energy(p, fake)
            return jnp.mean(real_u) - jnp.mean(fake_u) + 0.1 * jnp.mean(real_u**2 + fake_u**2)

        loss, grads = jax.value_and_grad(loss_fn)(state.params['energy'])
        state = state.apply_gradients('energy', grads)
        state = state.replace(aux={'buffer': state.aux['buffer'].at[index].set(fake)})
        return state, {'loss': loss}

    def eval_step(self, state, batch, rng):
        return {'energy_real': self._energy(state.params['energy'], flat_unit(self.info, batch['image']))}


class RefitTask(Task):
    headline = 'distance'

    def __init__(self, info, config, refit_steps=(4, 6)):
        self.info, self.dim = info, int(np.prod(info.image_shape))
        self.refit_steps = tuple(refit_steps)
        self.optimizers = build_optimizers(config, ('centre',))

    def init(self, rng, batch):
        return TrainState.create(
            rng, {'centre': jnp.zeros(self.dim)}, self.optimizers, aux={'refits': jnp.zeros((), jnp.int32)}
        )

    def _distance(self, centre, batch):
        return jnp.sum((flat_unit(self.info, batch['image']) - centre) ** 2, axis=-1)

    def train_step(self, state, batch, rng):
        return state.minimize('centre', lambda c: (jnp.mean(self._distance(c, batch)), {}))

    def eval_step(self, state, batch, rng):
        return {'distance': self._distance(state.params['centre'], batch)}

    def refit(self, state, batches, seed):
        real = [flat_unit(self.info, b['image'])[np.asarray(b['mask'])] for b in batches]
        images = np.concatenate([np.asarray(x) for x in real])
        state = state.replace(
            params={'centre': jnp.asarray(images.mean(axis=0))}, aux={'refits': state.aux['refits'] + 1}
        )
        return state, {'examples': float(len(images))}
