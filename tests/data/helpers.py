"""Small helpers of the zoo.data tests: take batches, name examples, strip padding."""

import itertools

import numpy as np

# Sizes of the `real_mnist_dir` fixture (conftest.py): image i has every pixel = i.
NUM_REAL_TRAIN, NUM_REAL_TEST = 10, 4
REAL_TEST_FIRST_ID = 100


def take(iterator, n):
    """The first n items of `iterator`, as a list."""
    return list(itertools.islice(iterator, n))


def keys(batches):
    """Byte strings of every image in `batches` (dicts with 'image', or arrays), to
    compare examples as sets."""
    return [image.tobytes() for batch in batches for image in (batch['image'] if isinstance(batch, dict) else batch)]


def real_images(batches):
    """The unpadded images of evaluation batches, concatenated."""
    return np.concatenate([b['image'][b['mask']] for b in batches])


def real_labels(batches):
    """The unpadded labels of evaluation batches, concatenated."""
    return np.concatenate([b['label'][b['mask']] for b in batches])


ONE = dict(process_index=0, process_count=1)
