"""Labelled batches of sklearn's 8x8 digits (17 levels), built here so the tests need no data layer."""

import functools

import numpy as np
from sklearn.datasets import load_digits

from zoo.data import dataset_info

INFO = dataset_info('digits')


@functools.lru_cache(maxsize=1)
def _digits():
    bunch = load_digits()
    return bunch.images.astype(np.uint8)[..., None], bunch.target.astype(np.int32)


def batch(n, start=0):
    """{'image': uint8 (n, 8, 8, 1) in 0..16, 'label': int32 (n,)} from example ``start`` on."""
    images, labels = _digits()
    return {'image': images[start : start + n], 'label': labels[start : start + n]}


def eval_batch(n, start=0):
    return {**batch(n, start), 'mask': np.ones(n, bool)}
