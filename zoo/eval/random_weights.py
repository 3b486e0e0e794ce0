"""Seeded random weights in pytorch-fid's state-dict layout, from numpy alone.

The fixture test (tests/eval/test_inception.py) and its generator
(experiments/make_fid_fixture.py, run once with torch in a scratch venv) both call
``random_state_dict`` on the same names and shapes, so the Flax port and pytorch-fid's
network hold identical weights without the real weight file.  Each array is drawn from its
own generator seeded by (seed, crc32(name)), so the draw does not depend on key order.
Scales keep activations of order one through the 90-odd layers: He-normal convolutions
(fan-in), batch-norm statistics near the identity.

This file imports numpy only: the generator script loads it by path, without jax.
"""

import zlib

import numpy as np


def _draw(name: str, shape: tuple, rng) -> np.ndarray:
    if name.endswith('conv.weight'):
        fan_in = int(np.prod(shape[1:]))
        return rng.normal(0.0, np.sqrt(2.0 / fan_in), shape)
    if name.endswith(('bn.weight', 'bn.running_var')):
        return rng.uniform(0.5, 1.5, shape)
    if name.endswith(('bn.bias', 'bn.running_mean')):
        return rng.normal(0.0, 0.1, shape)
    if name == 'fc.weight':
        return rng.normal(0.0, np.sqrt(1.0 / shape[1]), shape)
    if name == 'fc.bias':
        return rng.normal(0.0, 0.01, shape)
    raise ValueError(f'no random rule for parameter {name!r}')


def random_state_dict(shapes: dict, seed: int) -> dict:
    """{torch name: float32 array} for {torch name: shape}, seeded per name."""
    return {
        name: _draw(name, tuple(shape), np.random.default_rng([seed, zlib.crc32(name.encode())])).astype(np.float32)
        for name, shape in shapes.items()
    }


def block_input(seed: int, name: str, shape) -> np.ndarray:
    """Uniform [0, 1) NHWC float32 input for testing one block (post-ReLU activations are non-negative)."""
    return np.random.default_rng([seed, zlib.crc32(name.encode()), 1]).uniform(0, 1, shape).astype(np.float32)
