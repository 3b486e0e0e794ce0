"""An EBM on 2-D points: the same loss, replay buffer and Langevin chains as the image task,
with an MLP energy, trained in jitted ``lax.scan`` chunks (no loop, no checkpoints).

    state = fit_points(sampler, key, steps=2000)     # sampler(key, n) -> (n, 2) data points
    u = state.energy(grid)                           # learned energy; q ~ exp(-u)
    x = langevin_samples(state, key, 2000, 500)      # fresh chains from uniform noise

Langevin here is the unadjusted sampler with its proper noise sqrt(eps) (no colder
IGEBM-style noise): in 2-D short persistent chains mix, so samples should follow exp(-U).
"""

from typing import Callable, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from zoo.ebm import replay_buffer
from zoo.ebm.energy import MLPEnergy
from zoo.ebm.langevin import langevin_chain
from zoo.ebm.loss import ebm_loss


class PointsEBM(NamedTuple):
    """A fitted 2-D energy: its module, parameters, replay buffer and the box it lives in."""
    module: nn.Module
    params: dict
    buffer: jax.Array
    box: float

    def energy(self, x):
        return self.module.apply({'params': self.params}, x)


def fit_points(sampler: Callable, key, steps: int = 2000, batch_size: int = 256, hidden=(128, 128, 128),
               langevin_steps: int = 20, step_size: float = 0.01, alpha: float = 0.1, lr: float = 1e-3,
               buffer_size: int = 10_000, box: float = 4.0, chunk: int = 500):
    """Fit U to ``sampler``'s points in [-box, box]^2; returns (PointsEBM, losses per step)."""
    module = MLPEnergy(hidden=tuple(hidden), spectral_norm=False)
    k_init, k_buffer, k_train = jax.random.split(key, 3)
    params = module.init(k_init, jnp.zeros((1, 2)))['params']
    tx = optax.adam(lr, b1=0.0, b2=0.999)
    carry = (params, tx.init(params), replay_buffer.init_buffer(k_buffer, buffer_size, (2,), -box, box))

    def step(carry, key):
        params, opt_state, buffer = carry
        k_data, k_draw, k_chain = jax.random.split(key, 3)
        x0, slots, _ = replay_buffer.draw(buffer, k_draw, batch_size, 0.95, -box, box)
        energy = lambda x: module.apply({'params': params}, x)
        x_fake = langevin_chain(energy, x0, k_chain, langevin_steps, step_size, bounds=(-box, box))

        def loss_fn(p):
            u = module.apply({'params': p}, jnp.concatenate([sampler(k_data, batch_size), x_fake]))
            return ebm_loss(u[:batch_size], u[batch_size:], alpha)[0]

        loss, grads = jax.value_and_grad(loss_fn)(params)
        updates, opt_state = tx.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state, replay_buffer.store(buffer, slots, x_fake)), loss

    run = jax.jit(lambda carry, keys: jax.lax.scan(step, carry, keys))
    losses = []
    for start in range(0, steps, chunk):
        carry, chunk_losses = run(carry, jax.random.split(jax.random.fold_in(k_train, start), min(chunk, steps - start)))
        losses.append(chunk_losses)
    return PointsEBM(module, carry[0], carry[2], box), jnp.concatenate(losses)


def langevin_samples(model: PointsEBM, key, num: int, num_steps: int, step_size: float = 0.01) -> jax.Array:
    """``num`` fresh Langevin chains of ``num_steps`` steps from U[-box, box]^2."""
    k_noise, k_chain = jax.random.split(key)
    x0 = jax.random.uniform(k_noise, (num, 2), minval=-model.box, maxval=model.box)
    chain = jax.jit(lambda params, x0, k: langevin_chain(
        lambda x: model.module.apply({'params': params}, x), x0, k, num_steps, step_size,
        bounds=(-model.box, model.box)))
    return chain(model.params, x0, k_chain)
