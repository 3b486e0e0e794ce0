"""The train state every task carries, and the helpers a task updates it with.

    state = TrainState.create(rng, params={'generator': g, 'critic': d}, optimizers=opts, aux={...})
    state = state.apply_gradients('critic', grads, opts['critic'])

A task owns its networks and optimizers; the loop owns ``step``, ``rng`` and
``lr_scale``.  Everything here is checkpointed whole, so a resumed run continues
exactly where the killed one was.
"""

from typing import Any, NamedTuple

import flax
import jax
import jax.numpy as jnp
import optax


class Optimizer(NamedTuple):
    """One network's optimizer: the optax transform, and its parameter EMA (0: none)."""
    tx: optax.GradientTransformation
    ema_decay: float = 0.0


@flax.struct.dataclass
class TrainState:
    """Everything that changes during training.

    step      number of train steps taken
    rng       raw uint32 key; the loop gives step t the key ``fold_in(rng, t)``, so a
              resumed run draws the same noise as an uninterrupted one
    params    {network name: parameter tree}
    opt_state {network name: optax state}, one per entry of ``params``
    ema       {network name: EMA of its parameters}, for the networks that keep one
    aux       everything else that changes: Flax variable collections (power-iteration
              vectors, fixed permutations), replay buffers, per-example latents
    lr_scale  multiplies every update; the divergence guard lowers it, and keeping it
              here makes the lowered rate survive a restart
    """
    step: jax.Array
    rng: jax.Array
    params: dict
    opt_state: dict
    ema: dict
    aux: dict
    lr_scale: jax.Array

    @classmethod
    def create(cls, rng: jax.Array, params: dict, optimizers: dict[str, Optimizer],
               aux: Any = None) -> 'TrainState':
        """Step 0, lr scale 1, one optimizer state per network and an EMA where asked for."""
        missing = sorted(set(params) - set(optimizers))
        if missing:
            raise ValueError(f'networks {missing} have parameters but no optimizer')
        return cls(step=jnp.zeros((), jnp.int32), rng=rng, params=dict(params),
                   opt_state={name: optimizers[name].tx.init(p) for name, p in params.items()},
                   ema={name: jax.tree.map(jnp.copy, p) for name, p in params.items()
                        if optimizers[name].ema_decay > 0},
                   aux={} if aux is None else aux, lr_scale=jnp.ones((), jnp.float32))

    def apply_gradients(self, name: str, grads, optimizer: Optimizer) -> 'TrainState':
        """theta <- theta + lr_scale * update(grads) for network ``name``; its EMA follows.

        The EMA uses ``ema_update`` with the step count, so early on it tracks the
        parameters rather than their random initial values.
        """
        params = self.params[name]
        updates, opt_state = optimizer.tx.update(grads, self.opt_state[name], params)
        updates = jax.tree.map(lambda u: self.lr_scale.astype(u.dtype) * u, updates)
        params = optax.apply_updates(params, updates)
        ema = self.ema
        if name in ema:
            ema = {**ema, name: ema_update(ema[name], params, optimizer.ema_decay, self.step)}
        return self.replace(params={**self.params, name: params},
                            opt_state={**self.opt_state, name: opt_state}, ema=ema)

    def averaged(self, name: str, use_ema: bool = True):
        """Network ``name``'s parameters for evaluation and samples: the EMA when kept."""
        return self.ema[name] if (use_ema and name in self.ema) else self.params[name]


def ema_update(ema, params, decay: float, step=None):
    """ema <- d * ema + (1 - d) * params (Polyak averaging of the weights).

    With ``step`` given, d = min(decay, (1 + step) / (10 + step)) as in
    TensorFlow's ExponentialMovingAverage: early on the average follows the
    parameters closely instead of remembering their random initial values.
    """
    d = decay if step is None else jnp.minimum(decay, (1.0 + step) / (10.0 + step))
    return jax.tree.map(lambda e, p: d * e + (1.0 - d) * p, ema, params)
