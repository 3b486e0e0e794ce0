"""Experiment configs: ``configs/<model>.py`` holds one small function per config name."""

import importlib

from zoo.train.config import Config


def names(model: str) -> list[str]:
    """The config names ``model`` offers (its module's public functions)."""
    module = importlib.import_module(f'experiments.configs.{model}')
    return [n for n in getattr(module, 'CONFIGS')]


def get_config(model: str, name: str) -> Config:
    """``experiments.configs.<model>.<name>()``, with a clear error for unknown names."""
    module = importlib.import_module(f'experiments.configs.{model}')
    if name not in module.CONFIGS:
        raise ValueError(f'unknown config {name!r} for {model}; choose one of {list(module.CONFIGS)}')
    return getattr(module, name)()
