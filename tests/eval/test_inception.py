"""The Flax FID network equals pytorch-fid's on shared seeded random weights.

tests/eval/fid_fixture.npz holds pytorch-fid's outputs (experiments/make_fid_fixture.py,
run once with torch in a scratch venv); here the same weights are redrawn with numpy
(zoo.eval.random_weights), converted, and loaded into the port.
"""

import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from zoo.eval import inception, random_weights, resize, weights

FIXTURE = os.path.join(os.path.dirname(__file__), 'fid_fixture.npz')


@pytest.fixture(scope='module')
def fixture():
    with np.load(FIXTURE) as f:
        return dict(f)


@pytest.fixture(scope='module')
def params(fixture):
    shapes = {name: tuple(map(int, s.split(','))) for name, s in zip(fixture['names'], fixture['shapes'])}
    return weights.unflatten(weights.convert_state_dict(random_weights.random_state_dict(shapes, int(fixture['seed']))))


def relative_error(a, b):
    return float(np.max(np.abs(np.asarray(a) - b)) / np.max(np.abs(b)))


def test_port_has_pytorch_fids_parameters(fixture):
    expected = {name: tuple(map(int, s.split(','))) for name, s in zip(fixture['names'], fixture['shapes'])}
    assert weights.torch_shapes() == expected


def test_resize_matches_torch_interpolate(fixture):
    images = jnp.asarray(fixture['images'])
    up = resize.resize_bilinear(images, (299, 299))
    np.testing.assert_allclose(up[:, ::7, ::7], fixture['resize_up'], rtol=0, atol=1e-5)
    np.testing.assert_allclose(resize.resize_bilinear(images, (13, 13)), fixture['resize_down'], rtol=0, atol=1e-5)


@pytest.mark.parametrize(
    'name, module',
    [
        ('Mixed_5b', inception.InceptionA(32)),
        ('Mixed_6a', inception.InceptionB()),
        ('Mixed_6b', inception.InceptionC(128)),
        ('Mixed_7a', inception.InceptionD()),
        ('Mixed_7b', inception.InceptionE('avg')),
        ('Mixed_7c', inception.InceptionE('max')),
    ],
)
def test_each_block_matches_pytorch_fid(fixture, params, name, module):
    expected = fixture[name]
    size = {'Mixed_6b': 4, 'Mixed_7b': 3, 'Mixed_7c': 3}.get(name, 5)
    channels = {'Mixed_5b': 192, 'Mixed_6a': 288, 'Mixed_6b': 768, 'Mixed_7a': 768, 'Mixed_7b': 1280}.get(name, 2048)
    x = random_weights.block_input(int(fixture['seed']), name, (1, size, size, channels))
    out = module.apply({'params': params[name]}, jnp.asarray(x))
    assert out.shape == expected.shape
    assert relative_error(out, expected) < 1e-4


def test_features_match_pytorch_fid(fixture, params):
    out = jax.jit(inception.FIDInception().apply)({'params': params}, jnp.asarray(fixture['images']))
    assert out['pool'].shape == (2, inception.FEATURE_DIM)
    assert relative_error(out['pool'], fixture['pool']) < 1e-4
    assert relative_error(out['logits'], fixture['logits']) < 1e-4
    for i in range(3):
        assert relative_error(out[f'block{i}'].mean(axis=(1, 2)), fixture[f'block{i}']) < 1e-4
