"""Experiment configs: ``configs/<model>.py`` holds one small function per config name.

A model module lists its config names in ``CONFIGS``; the first is the default.
Modules without ``CONFIGS`` (``gan_common``) hold shared pieces, not models.
"""

import importlib
import pkgutil

from zoo.train.config import Config


def models() -> list[str]:
    """Every model with a config module, e.g. ['ebm', 'fgan', ..., 'wgan']."""
    names = [m.name for m in pkgutil.iter_modules(__path__)]
    return sorted(n for n in names if hasattr(importlib.import_module(f'{__name__}.{n}'), 'CONFIGS'))


def names(model: str) -> list[str]:
    """The config names ``model`` offers, the default first."""
    return list(_module(model).CONFIGS)


def get_config(model: str, name: str) -> Config:
    """``experiments.configs.<model>.<name>()``, with a clear error for unknown names."""
    module = _module(model)
    if name not in module.CONFIGS:
        raise ValueError(f'unknown config {name!r} for {model}; choose one of {list(module.CONFIGS)}')
    return getattr(module, name)()


def _module(model: str):
    if model not in models():
        raise ValueError(f'unknown model {model!r}; choose one of {models()} or give package.module:Class')
    return importlib.import_module(f'{__name__}.{model}')
