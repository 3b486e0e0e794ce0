"""A small in-memory image dataset with the data layer's interface, for loop tests."""

import types

import numpy as np


class TinyImages:
    """``num`` random 4x4x1 images with 17 levels: train batches are a pure function of
    (seed, step), evaluation batches come padded with a mask, as ``zoo.data`` gives them."""

    def __init__(self, num: int = 64, shape=(4, 4, 1), num_levels: int = 17, seed: int = 0):
        self.images = np.random.default_rng(seed).integers(0, num_levels, (num, *shape), dtype=np.uint8)
        self.info = types.SimpleNamespace(name='tiny', image_shape=tuple(shape), num_levels=num_levels,
                                          num_classes=None)

    def train_batches(self, batch_size, seed, start_step=0):
        step = start_step
        while True:
            rows = np.random.default_rng([seed, step]).choice(len(self.images), batch_size, replace=False)
            yield {'image': self.images[rows]}
            step += 1

    def eval_batches(self, batch_size, split='validation'):
        for start in range(0, len(self.images), batch_size):
            images = self.images[start:start + batch_size]
            mask = np.zeros(batch_size, bool)
            mask[:len(images)] = True
            padded = np.zeros((batch_size, *images.shape[1:]), np.uint8)
            padded[:len(images)] = images
            yield {'image': padded, 'mask': mask}
