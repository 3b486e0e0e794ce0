"""The toy-density comparison (i-ResNet vs a coupling flow) writes its figure and numbers."""

import json
import math

import jax
import jax.numpy as jnp

from experiments import toy_densities


def test_toy_densities_writes_png_and_log_likelihoods(tmp_path):
    # a 2-block i-ResNet: the deep default compiles for a minute, and its size is checked below
    small = {**toy_densities.IRESNET, 'blocks': 2}
    results = toy_densities.run(
        str(tmp_path), densities=('eight_gaussians',), steps=2, batch_size=32, resolution=8, iresnet=small
    )
    saved = json.loads((tmp_path / 'toy_densities.json').read_text())
    assert set(saved['results']['eight_gaussians']) == {'coupling flow', 'i-ResNet'}
    assert saved['results'] == json.loads(json.dumps(results))
    assert (tmp_path / 'toy_densities.png').stat().st_size > 0


def test_toy_densities_contenders_are_of_equal_size():
    x = jnp.zeros((4, 2))
    sizes = []
    for model in toy_densities.models().values():
        shapes = jax.eval_shape(lambda m=model: m.init(jax.random.key(0), x, method='log_prob'))
        sizes.append(sum(math.prod(p.shape) for p in jax.tree.leaves(shapes['params'])))
    assert max(sizes) < 1.03 * min(sizes), sizes  # parameters matched within 3%
