"""Every batch of every dataset kind carries 'index', each example's position in its split,
and 2-D points travel under 'point', never 'image'."""

import numpy as np
import pytest
from PIL import Image

from tests.data.helpers import ONE, take
from zoo import data


def _split_examples(dataset, split):
    """The split read one example at a time, in order: {key: stacked values}."""
    examples = [dataset.splits[split][i] for i in range(len(dataset.splits[split]))]
    return {k: np.stack([e[k] for e in examples]) for k in examples[0]}


def _check_index(dataset, key):
    """Train and eval batches name each example by its position: batch[key] is the split's example there."""
    for split in data.SPLITS:
        stored = _split_examples(dataset, split)
        np.testing.assert_array_equal(stored['index'], np.arange(len(dataset.splits[split])))
        for batch in dataset.eval_batches(4, split, **ONE):
            real = batch['mask']
            assert batch['index'].dtype == np.int32
            np.testing.assert_array_equal(batch[key][real], stored[key][batch['index'][real]])
    stored = _split_examples(dataset, 'train')
    for batch in take(dataset.train_batches(3, seed=1, **ONE), 5):
        assert batch['index'].dtype == np.int32 and batch['index'].shape == (3,)
        np.testing.assert_array_equal(batch[key], stored[key][batch['index']])


def test_digits_batches_carry_index():
    _check_index(data.open_dataset('digits', validation_fraction=0.02), 'image')


def test_npz_batches_carry_index(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / 'a.npz'
    np.savez(
        path,
        x_train=rng.integers(0, 256, (13, 4, 4), dtype=np.uint8),
        x_test=rng.integers(0, 256, (5, 4, 4), dtype=np.uint8),
    )
    _check_index(data.open_dataset(f'npz:{path}', validation_fraction=0.2), 'image')


def test_folder_batches_carry_index(tmp_path):
    rng = np.random.default_rng(1)
    for i in range(20):
        Image.fromarray(rng.integers(0, 256, (5, 5, 3), dtype=np.uint8)).save(tmp_path / f'{i}.png')
    _check_index(data.open_dataset(f'folder:{tmp_path}', validation_fraction=0.2), 'image')


def test_tfds_batches_carry_index(real_mnist_dir):
    _check_index(data.open_dataset('mnist', data_dir=real_mnist_dir, validation_fraction=0.2), 'image')


def test_toy2d_is_a_dataset_of_points():
    dataset = data.open_dataset('toy2d:two_moons')
    assert dataset.info.point_dim == 2 and dataset.info.image_shape is None and dataset.info.key == 'point'
    assert [len(dataset.splits[s]) for s in data.SPLITS] == [9000, 1000, 2000]
    batch = next(dataset.eval_batches(7, 'test', **ONE))
    assert set(batch) == {'point', 'index', 'mask'}
    assert batch['point'].dtype == np.float32 and batch['point'].shape == (7, 2)
    assert np.abs(batch['point']).max() < 8
    # A fixed draw: opening it again gives the same points.
    np.testing.assert_array_equal(
        batch['point'], next(data.open_dataset('toy2d:two_moons').eval_batches(7, 'test', **ONE))['point']
    )
    with pytest.raises(ValueError, match="Unknown toy density in 'toy2d:moons'; known: toy2d:two_moons"):
        data.open_dataset('toy2d:moons')


def test_toy2d_batches_carry_index():
    dataset = data.open_dataset('toy2d:pinwheel')
    stored = dataset.splits['test']
    batch = next(dataset.eval_batches(5, 'test', **ONE))
    np.testing.assert_array_equal(batch['point'], stored.read_at(batch['index'])['point'])
    batch = next(dataset.train_batches(6, seed=0, **ONE))
    np.testing.assert_array_equal(batch['point'], dataset.splits['train'].read_at(batch['index'])['point'])
