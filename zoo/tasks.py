"""Task names in configs -> task classes, so a checkpoint's config rebuilds its task.

``Config.task`` is a name below or an import path ``'package.module:Class'``
(how tests and users plug in their own).  A name may carry default keyword
arguments, which ``Config.task_kwargs`` overrides.  This registry lives outside
``zoo.train`` so the loop never imports a model family; classes are imported
only when a run asks for them.
"""

import importlib
import inspect

from zoo.train.config import Config, ConfigError

TASKS = {
    'nice': ('zoo.flows.task:FlowTask', {'flow': 'nice'}),
    'realnvp': ('zoo.flows.task:FlowTask', {'flow': 'realnvp'}),
    'glow': ('zoo.flows.task:FlowTask', {'flow': 'glow'}),
    'iresnet': ('zoo.residual.task:ResidualFlowTask', {}),
    'fgan': ('zoo.gan.task:GANTask', {'game': 'fgan'}),
    'wgan': ('zoo.gan.task:GANTask', {'game': 'wgan', 'lipschitz': 'gradient_penalty'}),
    'hinge_gan': ('zoo.gan.task:GANTask', {'game': 'hinge', 'lipschitz': 'spectral'}),
    'gan_onestep': ('zoo.gan.task:GANTask', {'game': 'one_loss', 'lipschitz': 'spectral'}),
    'ogan': ('zoo.gan.task:GANTask', {'game': 'ogan'}),
    'ebm': ('zoo.ebm.task:EBMTask', {}),
    'glann': ('zoo.ebm.glann_task:GLANNTask', {}),
    'vae': ('zoo.vae.task:VAETask', {}),
    'vae_cluster': ('zoo.vae.clustering_task:ClusteringVAETask', {}),
    'vib': ('zoo.vae.vib_task:VIBTask', {}),
    'infomax': ('zoo.vae.infomax_task:InfoMaxTask', {}),
    'fvae': ('zoo.vae.fvae_task:FVAETask', {}),
}


def task_class(name: str):
    """The class and default kwargs ``name`` stands for (a registered name or 'module:Class')."""
    if name in TASKS:
        path, defaults = TASKS[name]
    elif ':' in name:
        path, defaults = name, {}
    else:
        raise ConfigError(f'unknown task {name!r}; known: {sorted(TASKS)}, or give package.module:Class')
    module, _, attr = path.partition(':')
    try:
        return getattr(importlib.import_module(module), attr), defaults
    except (ImportError, AttributeError) as e:
        raise ConfigError(f'task {name!r}: cannot import {path} ({e})') from e


def build_task(config: Config, info):
    """``TaskClass(info, config, **task_kwargs)``; a wrong keyword is a ``ConfigError``."""
    cls, defaults = task_class(config.task)
    kwargs = {**defaults, **config.task_kwargs}
    parameters = inspect.signature(cls).parameters
    accepted = [p for p in parameters if p not in ('info', 'config')]
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown and not any(p.kind == p.VAR_KEYWORD for p in parameters.values()):
        raise ConfigError(f'task {config.task!r} has no settings {unknown}; task_kwargs are {accepted}')
    return cls(info, config, **kwargs)
