"""The train state every task carries, and the two ways a task updates a network with it.

    state = TrainState.create(rng, params={'flow': p}, optimizers=build_optimizers(config, ('flow',)))
    state, metrics = state.minimize('flow', loss_fn, batch, rng)    # one network, one loss
    state = state.apply_gradients('critic', grads)                   # a task's own gradients

The optimizers are a static field (like ``flax.training.train_state.TrainState.tx``):
they are part of the state's structure, not of its arrays, so a step names only the
network.  A task owns its networks and optimizers; the loop owns ``step``, ``rng``
and ``lr_scale``.  The arrays are checkpointed whole, so a resumed run continues
exactly where the killed one was.
"""

from collections.abc import Callable
from typing import Any, NamedTuple

import flax
import jax
import jax.numpy as jnp
import optax


class Optimizer(NamedTuple):
    """One network's optimizer: the optax transform, its parameter EMA (0: none), and the
    step size h of the implicit-gradient-regularisation penalty (0: none; see ``minimize``)."""

    tx: optax.GradientTransformation
    ema_decay: float = 0.0
    implicit_grad_reg: float = 0.0


@flax.struct.dataclass
class TrainState:
    """Everything that changes during training, and the optimizers that change it.

    step       number of train steps taken
    rng        raw uint32 key; the loop gives step t the key ``fold_in(rng, t)``, so a
               resumed run draws the same noise as an uninterrupted one
    params     {network name: parameter tree}
    opt_state  {network name: optax state}, one per entry of ``params``
    ema        {network name: EMA of its parameters}, for the networks that keep one
    aux        everything else that changes: Flax variable collections (power-iteration
               vectors, fixed permutations), replay buffers, per-example latents
    lr_scale   multiplies every update; the divergence guard lowers it, and keeping it
               here makes the lowered rate survive a restart
    optimizers {network name: Optimizer}; static (not an array, not checkpointed)
    """

    step: jax.Array
    rng: jax.Array
    params: dict
    opt_state: dict
    ema: dict
    aux: dict
    lr_scale: jax.Array
    optimizers: flax.core.FrozenDict = flax.struct.field(pytree_node=False, default=flax.core.FrozenDict())

    @classmethod
    def create(cls, rng: jax.Array, params: dict, optimizers: dict[str, Optimizer], aux: Any = None) -> 'TrainState':
        """Step 0, lr scale 1, one optimizer state per network and an EMA where asked for."""
        missing = sorted(set(params) - set(optimizers))
        if missing:
            raise ValueError(f'networks {missing} have parameters but no optimizer')
        optimizers = flax.core.FrozenDict({name: optimizers[name] for name in params})
        return cls(
            step=jnp.zeros((), jnp.int32),
            rng=rng,
            params=dict(params),
            opt_state={name: optimizers[name].tx.init(p) for name, p in params.items()},
            ema={name: jax.tree.map(jnp.copy, p) for name, p in params.items() if optimizers[name].ema_decay > 0},
            aux={} if aux is None else aux,
            lr_scale=jnp.ones((), jnp.float32),
            optimizers=optimizers,
        )

    def minimize(self, name: str, loss_fn: Callable, *args, mutable: bool = False) -> tuple['TrainState', dict]:
        """One gradient step on ``loss_fn`` for network ``name``: ``(state, metrics)``.

        ``loss_fn(params, *args) -> (loss, metrics)``; with ``mutable=True`` it returns
        ``(loss, (metrics, collections))`` and the network's non-trained Flax
        collections in ``state.aux[name]`` are updated with ``collections`` (e.g.
        power-iteration vectors advanced by the forward pass).  When the network's
        optimizer has ``implicit_grad_reg = h > 0`` the minimised loss is

            L~(theta) = L(theta) + (h / 4) |grad_theta L(theta)|^2

        (Barrett & Dherin 2021, "Implicit Gradient Regularization", sec. 3), reported as
        ``igr_penalty``.  The returned metrics are the loss_fn's plus ``loss`` (the
        minimised value) and ``grad_norm`` (global norm of its gradient).
        """

        def split(params):
            loss, extra = loss_fn(params, *args)
            metrics, collections = extra if mutable else (extra, {})
            return loss, (metrics, collections)

        h = self.optimizers[name].implicit_grad_reg
        objective = split
        if h > 0:

            def objective(params):
                (loss, (metrics, collections)), grads = jax.value_and_grad(split, has_aux=True)(params)
                penalty = 0.25 * h * sum(jnp.sum(jnp.square(g)) for g in jax.tree.leaves(grads))
                return loss + penalty, ({**metrics, 'igr_penalty': penalty}, collections)

        (loss, (metrics, collections)), grads = jax.value_and_grad(objective, has_aux=True)(self.params[name])
        state = self._update(name, grads)
        if mutable:
            state = state.replace(aux={**state.aux, name: {**state.aux[name], **collections}})
        return state, {**metrics, 'loss': loss, 'grad_norm': optax.tree.norm(grads)}

    def apply_gradients(self, name: str, grads) -> 'TrainState':
        """theta <- theta + lr_scale * update(grads) for network ``name``; its EMA follows.

        For tasks that compute their own gradients (several networks, alternating
        updates).  The implicit-gradient penalty needs the loss, so a network whose
        optimizer asks for it must be updated with ``minimize``: here it is an error.
        """
        if self.optimizers[name].implicit_grad_reg > 0:
            from zoo.train.config import ConfigError

            raise ConfigError(
                f'implicit_grad_reg is set for network {name!r}, but this task updates it '
                f'from its own gradients, where the penalty cannot be added; set it to 0'
            )
        return self._update(name, grads)

    def _update(self, name: str, grads) -> 'TrainState':
        # The EMA uses ``ema_update`` with the step count, so early on it tracks the
        # parameters rather than their random initial values.
        optimizer = self.optimizers[name]
        params = self.params[name]
        updates, opt_state = optimizer.tx.update(grads, self.opt_state[name], params)
        updates = jax.tree.map(lambda u: self.lr_scale.astype(u.dtype) * u, updates)
        params = optax.apply_updates(params, updates)
        ema = self.ema
        if name in ema:
            ema = {**ema, name: ema_update(ema[name], params, optimizer.ema_decay, self.step)}
        return self.replace(
            params={**self.params, name: params}, opt_state={**self.opt_state, name: opt_state}, ema=ema
        )

    def averaged(self, name: str, use_ema: bool = True):
        """Network ``name``'s parameters for evaluation and samples: the EMA when kept."""
        return self.ema[name] if (use_ema and name in self.ema) else self.params[name]

    def variables(self, name: str, use_ema: bool = True) -> dict:
        """Network ``name``'s Flax variables: its (EMA) ``params`` and the collections in ``aux[name]``."""
        return {'params': self.averaged(name, use_ema), **self.aux.get(name, {})}


def ema_update(ema, params, decay: float, step=None):
    """ema <- d * ema + (1 - d) * params (Polyak averaging of the weights).

    With ``step`` given, d = min(decay, (1 + step) / (10 + step)) as in
    TensorFlow's ExponentialMovingAverage: early on the average follows the
    parameters closely instead of remembering their random initial values.
    """
    d = decay if step is None else jnp.minimum(decay, (1.0 + step) / (10.0 + step))
    return jax.tree.map(lambda e, p: d * e + (1.0 - d) * p, ema, params)
