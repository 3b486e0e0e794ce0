"""The image index finds each training image's row, in numpy and inside jit alike."""

import jax
import numpy as np
import pytest

from zoo.ebm.image_index import ImageIndex, pixel_hashes
from tests.ebm.fakes import bar_images


def test_every_training_image_is_found_at_its_row_and_new_images_are_not():
    images = np.random.default_rng(0).integers(0, 256, (300, 4, 4, 3), dtype=np.uint8)
    index = ImageIndex(images)
    order = np.random.default_rng(1).permutation(300)
    rows, found = jax.jit(index.lookup)(images[order])
    np.testing.assert_array_equal(rows, order)
    assert bool(found.all())
    new = images[:5].copy()
    new[:, 0, 0, 0] += 1
    _, found_new = index.lookup(new)
    assert not bool(found_new.any())


def test_numpy_and_jax_hashes_agree_and_identical_images_share_a_row():
    images = bar_images(50)
    np.testing.assert_array_equal(pixel_hashes(images, np), np.asarray(pixel_hashes(images)))
    doubled = np.concatenate([images, images[:1]])
    rows, found = ImageIndex(doubled).lookup(doubled[-1:])
    assert bool(found[0]) and np.array_equal(doubled[int(rows[0])], doubled[-1])


def test_float_images_are_an_error():
    with pytest.raises(ValueError, match='needs integer images'):
        ImageIndex(np.zeros((2, 4, 4, 1), np.float32))
