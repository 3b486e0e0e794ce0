"""Optimizers from an ``OptimizerConfig``.

make_optimizer     Adam / Adamax (+ decoupled weight decay), warm-up then constant or
                   cosine, global-norm clipping, per-group learning rates, gradient
                   accumulation
build_optimizers   one ``Optimizer`` (transform, EMA decay, implicit-gradient penalty) per
                   network of a task; ``TrainState.minimize`` applies all three
"""

import jax
import optax

from zoo.train.config import Config, OptimizerConfig
from zoo.train.state import Optimizer


def learning_rate(config: OptimizerConfig, total_steps: int) -> optax.Schedule:
    """Linear warm-up 0 -> lr over ``warmup_steps``, then constant or cosine decay.

    Cosine (Loshchilov & Hutter 2017) decays to ``lr * final_lr_fraction`` at
    ``total_steps``.  Counts are optimizer updates, i.e. steps divided by
    ``grad_accum_steps``.
    """
    warmup = max(config.warmup_steps // config.grad_accum_steps, 0)
    total = max(total_steps // config.grad_accum_steps, warmup + 1)
    if config.schedule == 'constant':
        if warmup == 0:
            return optax.constant_schedule(config.lr)
        return optax.join_schedules(
            [optax.linear_schedule(0.0, config.lr, warmup), optax.constant_schedule(config.lr)], [warmup]
        )
    if config.schedule == 'cosine':
        return optax.warmup_cosine_decay_schedule(
            0.0, config.lr, warmup, total, end_value=config.lr * config.final_lr_fraction
        )
    raise ValueError(f'unknown schedule {config.schedule!r}; use constant or cosine')


def _base_optimizer(config: OptimizerConfig, lr) -> optax.GradientTransformation:
    # Adamax (Kingma & Ba 2015, "Adam", sec. 7.1) is Glow's optimizer; Adam the default.
    # Weight decay is decoupled from the moment estimates (AdamW, Loshchilov & Hutter 2019).
    scalers = {'adam': optax.scale_by_adam, 'adamax': optax.scale_by_adamax}
    if config.name not in scalers:
        raise ValueError(f'unknown optimizer {config.name!r}; use one of {sorted(scalers)}')
    decay = [optax.add_decayed_weights(config.weight_decay)] if config.weight_decay > 0 else []
    return optax.chain(
        scalers[config.name](b1=config.b1, b2=config.b2, eps=config.eps), *decay, optax.scale_by_learning_rate(lr)
    )


def param_labels(params, groups: dict) -> object:
    """Label each parameter with the first group whose name is a substring of its path.

    Paths look like ``flow_3/coupling/Conv_0/kernel``; unmatched parameters get
    ``'default'``.
    """

    def label(path, _):
        name = '/'.join(str(getattr(k, 'key', k)) for k in path)
        return next((group for group in groups if group in name), 'default')

    return jax.tree_util.tree_map_with_path(label, params)


def make_optimizer(config: OptimizerConfig, total_steps: int) -> optax.GradientTransformation:
    """The optax transform ``config`` describes, for a run of ``total_steps`` steps.

    clip_by_global_norm -> Adam/Adamax with the schedule; with ``lr_groups``
    each group gets its own copy at ``lr * multiplier`` through
    ``optax.partition`` (layer-wise learning rates); with ``grad_accum_steps = k``
    the whole thing is wrapped in ``optax.MultiSteps``, which averages k
    micro-batch gradients and updates once, so the effective batch is k times
    the batch size.
    """
    schedule = learning_rate(config, total_steps)

    def chain(multiplier: float) -> optax.GradientTransformation:
        lr = schedule if multiplier == 1.0 else (lambda count: multiplier * schedule(count))
        parts = [optax.clip_by_global_norm(config.clip_grad_norm)] if config.clip_grad_norm > 0 else []
        return optax.chain(*parts, _base_optimizer(config, lr))

    if config.lr_groups:
        transforms = {'default': chain(1.0)}
        transforms.update({group: chain(float(m)) for group, m in config.lr_groups.items()})
        optimizer = optax.partition(transforms, lambda params: param_labels(params, config.lr_groups))
    else:
        optimizer = chain(1.0)
    if config.grad_accum_steps > 1:
        optimizer = optax.MultiSteps(optimizer, every_k_schedule=config.grad_accum_steps).gradient_transformation()
    return optimizer


def build_optimizers(config: Config, networks) -> dict[str, Optimizer]:
    """{network: Optimizer} from ``config.optimizer`` and the per-network ``config.optimizers``."""
    unknown = sorted(set(config.optimizers) - set(networks))
    if unknown:
        raise ValueError(f'config.optimizers names {unknown}, but this task trains {sorted(networks)}')
    built = {}
    for network in networks:
        settings = config.optimizer_for(network)
        built[network] = Optimizer(
            make_optimizer(settings, config.steps), settings.ema_decay, settings.implicit_grad_reg
        )
    return built
