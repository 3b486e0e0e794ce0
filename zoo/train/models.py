"""Model names in configs -> model classes, so a checkpoint's config rebuilds its model."""

import importlib

# name -> 'module:Class'.  Classes take image_shape and num_levels plus the
# config's model_kwargs, and offer init / bits_per_dim / sample like
# zoo.flows.ImageFlow.  Tests add stand-ins here.
MODELS = {
    'nice': 'zoo.flows:NICE',
    'realnvp': 'zoo.flows:RealNVP',
    'glow': 'zoo.flows:Glow',
}


def build_model(config, image_shape, num_levels: int):
    """The Flax module ``config.model`` names, for images of ``image_shape`` with ``num_levels`` levels."""
    if config.model not in MODELS:
        raise ValueError(f'unknown model {config.model!r}; known: {sorted(MODELS)}')
    module, name = MODELS[config.model].split(':')
    cls = getattr(importlib.import_module(module), name)
    return cls(image_shape=tuple(image_shape), num_levels=num_levels, **config.model_kwargs)
