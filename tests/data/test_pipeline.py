"""Tests for zoo.data pipelines: training streams (determinism, epochs, resume, sharding)
and padded, masked evaluation passes."""

import numpy as np
import pytest
import tensorflow_datasets as tfds
from sklearn.datasets import load_digits

from tests.data.helpers import NUM_REAL_TRAIN, ONE, keys, real_images, real_labels, take
from zoo import data

NUM_MOCK = 20  # examples per split under tfds.testing.mock_data (see test_sources.py)


@pytest.fixture(scope='module')
def digits():
    return data.open_dataset('digits')


def _train_split(dataset):
    return real_images(list(dataset.eval_batches(500, 'train', **ONE)))


# ----------------------------------------------------------------- training


def test_train_batches_deterministic_and_epoch_is_permutation(digits):
    a = take(digits.train_batches(449, seed=3, **ONE), 3)
    b = take(digits.train_batches(449, seed=3, **ONE), 3)
    c = take(digits.train_batches(449, seed=4, **ONE), 3)
    assert a[0]['image'].shape == (449, 8, 8, 1) and a[0]['image'].dtype == np.uint8
    assert a[0]['label'].shape == (449,) and a[0]['label'].dtype == np.int32
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x['image'], y['image'])
        np.testing.assert_array_equal(x['label'], y['label'])
    assert not np.array_equal(a[0]['image'], c[0]['image'])
    # 3 x 449 = 1347: the first epoch visits every training image once, and no
    # validation or test image.
    assert sorted(keys(a)) == sorted(keys([_train_split(digits)]))


def test_train_labels_stay_with_their_images(digits):
    sk = load_digits()
    target_of = dict(zip(keys([sk.images.astype(np.uint8)[..., None]]), sk.target))
    for batch in take(digits.train_batches(300, seed=1, start_step=2, **ONE), 3):
        np.testing.assert_array_equal(batch['label'], [target_of[k] for k in keys([batch])])


def test_resume_matches_uninterrupted_stream(digits):
    fresh = take(digits.train_batches(200, seed=7, **ONE), 12)
    # start_step=5 lies in the first epoch and its batches cross into later ones.
    resumed = take(digits.train_batches(200, seed=7, start_step=5, **ONE), 7)
    for x, y in zip(fresh[5:], resumed, strict=True):
        np.testing.assert_array_equal(x['image'], y['image'])
        np.testing.assert_array_equal(x['label'], y['label'])


def test_shards_are_disjoint_and_cover_the_train_split(digits):
    per_process = [take(digits.train_batches(449, seed=0, process_index=p, process_count=3), 1) for p in range(3)]
    shards = [set(keys(b)) for b in per_process]
    assert all(len(k) == 449 for k in shards)
    assert not (shards[0] & shards[1]) and not (shards[0] & shards[2]) and not (shards[1] & shards[2])
    assert set().union(*shards) == set(keys([_train_split(digits)]))
    assert [digits.num_examples('train', process_index=p, process_count=3) for p in range(3)] == [449] * 3


def test_in_memory_streams_use_no_reader_threads(digits, monkeypatch):
    import grain

    seen = []
    real = grain.ReadOptions
    monkeypatch.setattr(grain, 'ReadOptions', lambda **kw: seen.append(kw) or real(**kw))
    next(digits.train_batches(4, seed=0, **ONE))
    next(digits.eval_batches(4, **ONE))
    assert [kw['num_threads'] for kw in seen] == [0, 0]


# --------------------------------------------------------------- evaluation


def test_eval_pads_last_batch_with_mask(digits):
    batches = list(digits.eval_batches(128, 'test', **ONE))
    assert len(batches) == 3
    for b in batches:
        assert set(b) == {'image', 'label', 'index', 'mask'}
        assert b['image'].shape == (128, 8, 8, 1) and b['image'].dtype == np.uint8
        assert b['label'].dtype == np.int32 and b['mask'].dtype == bool
    assert [int(b['mask'].sum()) for b in batches] == [128, 128, 44]
    np.testing.assert_array_equal(real_images(batches), data.digits_images('test'))  # fixed order
    last = batches[-1]
    assert not last['image'][~last['mask']].any() and not last['label'][~last['mask']].any()  # zeros
    assert np.all(last['mask'][:44]) and not np.any(last['mask'][44:])  # real examples first


def test_eval_defaults_to_validation(digits):
    batches = list(digits.eval_batches(64, **ONE))
    assert sum(int(b['mask'].sum()) for b in batches) == 150 == digits.num_examples('validation', **ONE)
    assert not set(keys([real_images(batches)])) & set(keys([_train_split(digits)]))


def test_eval_every_process_yields_the_same_number_of_batches(digits):
    # 300 test images over 7 processes: shards of 43 and 42 images.
    per_process = [list(digits.eval_batches(10, 'test', process_index=p, process_count=7)) for p in range(7)]
    assert {len(b) for b in per_process} == {5}
    assert [sum(int(b['mask'].sum()) for b in batches) for batches in per_process] == [43] * 6 + [42]
    # Interleaving the shards back gives the test split.
    rebuilt = np.zeros((300, 8, 8, 1), np.uint8)
    for p, batches in enumerate(per_process):
        rebuilt[p::7] = real_images(batches)
    np.testing.assert_array_equal(rebuilt, data.digits_images('test'))


def test_eval_of_a_split_shorter_than_the_processes(tmp_path):
    x = np.arange(6, dtype=np.uint8).reshape(6, 1, 1)
    np.savez(tmp_path / 'tiny.npz', x_train=x, x_test=x[:2])
    dataset = data.open_dataset(f'npz:{tmp_path / "tiny.npz"}', validation_fraction=0)
    per_process = [list(dataset.eval_batches(4, 'test', process_index=p, process_count=3)) for p in range(3)]
    assert [len(b) for b in per_process] == [1, 1, 1]  # process 2 has no example, still one batch
    assert [int(b[0]['mask'].sum()) for b in per_process] == [1, 1, 0]
    assert 'label' not in per_process[0][0]


# ------------------------------------------------------------ bad arguments


@pytest.mark.parametrize('batch_size', [0, -3, 2.5, True])
def test_bad_batch_size_fails_at_the_call(digits, batch_size):
    with pytest.raises(ValueError, match=r'batch_size must be an integer >= 1, got'):
        digits.train_batches(batch_size, seed=0, **ONE)
    with pytest.raises(ValueError, match=r'batch_size must be an integer >= 1, got'):
        digits.eval_batches(batch_size, **ONE)


def test_bad_arguments_fail_at_the_call(digits):
    with pytest.raises(ValueError, match=r'process_index 2 not in \[0, 2\)'):
        digits.train_batches(8, seed=0, process_index=2, process_count=2)
    with pytest.raises(ValueError, match=r'process_index 0 not in \[0, 0\)'):
        digits.eval_batches(8, process_index=0, process_count=0)
    with pytest.raises(ValueError, match='start_step must be >= 0'):
        digits.train_batches(8, seed=0, start_step=-1, **ONE)
    with pytest.raises(ValueError, match="Unknown split 'valid'; use one of train, validation, test"):
        digits.eval_batches(8, 'valid', **ONE)
    with pytest.raises(ValueError, match="Unknown split 'eval'"):
        digits.num_examples('eval', **ONE)


def test_empty_shard_fails_at_the_call(tmp_path):
    np.savez(tmp_path / 'three.npz', x_train=np.zeros((3, 2, 2), np.uint8), x_test=np.zeros((1, 2, 2), np.uint8))
    dataset = data.open_dataset(f'npz:{tmp_path / "three.npz"}', validation_fraction=0)
    with pytest.raises(ValueError, match=r"Shard 3 of 4 of 'npz:.*three.npz' \(train, 3 examples\) is empty"):
        dataset.train_batches(1, seed=0, process_index=3, process_count=4)


# --------------------------------------------------------------------- TFDS


def test_tfds_resume_and_determinism():
    with tfds.testing.mock_data(num_examples=NUM_MOCK):
        mnist = data.open_dataset('mnist', data_dir='/unused')
        fresh = take(mnist.train_batches(6, seed=1, **ONE), 9)
        again = take(mnist.train_batches(6, seed=1, **ONE), 9)
        resumed = take(mnist.train_batches(6, seed=1, start_step=4, **ONE), 5)
    for x, y in zip(fresh, again):
        np.testing.assert_array_equal(x['image'], y['image'])
    for x, y in zip(fresh[4:], resumed, strict=True):
        np.testing.assert_array_equal(x['image'], y['image'])
        np.testing.assert_array_equal(x['label'], y['label'])


def test_tfds_two_processes_see_disjoint_examples():
    with tfds.testing.mock_data(num_examples=NUM_MOCK):
        mnist = data.open_dataset('mnist', data_dir='/unused', validation_fraction=0)
        # One epoch of each 10-example shard: 2 batches of 5.
        streams = [mnist.train_batches(5, seed=0, process_index=p, process_count=2) for p in range(2)]
        seen = [set(keys(take(stream, 2))) for stream in streams]
        source = tfds.data_source('mnist', split='train')
        everything = {source[i]['image'].tobytes() for i in range(len(source))}
    assert len(everything) == NUM_MOCK
    assert len(seen[0]) == len(seen[1]) == NUM_MOCK // 2
    assert not seen[0] & seen[1]
    assert seen[0] | seen[1] == everything


def test_tfds_streams_use_reader_threads():
    with tfds.testing.mock_data(num_examples=NUM_MOCK):
        mnist = data.open_dataset('mnist', data_dir='/unused')
    assert not mnist.splits['train'].in_memory and data.open_dataset('digits').splits['train'].in_memory


def _ids(images):
    """Example ids of the real_mnist_dir images (every pixel of image i is i)."""
    return [int(i) for i in images[:, 0, 0, 0]]


def test_real_array_record_train_sharding_and_resume(real_mnist_dir):
    mnist = data.open_dataset('mnist', data_dir=real_mnist_dir, validation_fraction=0.2)
    kw = dict(process_count=2)
    # 8 training examples; each process: one epoch of its 4-example shard is one batch of 4.
    shards = [next(mnist.train_batches(4, seed=0, process_index=p, **kw)) for p in range(2)]
    assert shards[0]['image'].shape == (4, 28, 28, 1) and shards[0]['image'].dtype == np.uint8
    train_ids = _ids(shards[0]['image']) + _ids(shards[1]['image'])
    validation_ids = _ids(real_images(list(mnist.eval_batches(8, **ONE))))
    assert len(validation_ids) == 2
    assert sorted(train_ids + validation_ids) == list(range(NUM_REAL_TRAIN))
    for shard in shards:
        np.testing.assert_array_equal(shard['label'], np.array(_ids(shard['image'])) % 10)
    fresh = take(mnist.train_batches(3, seed=5, process_index=1, **kw), 6)
    resumed = take(mnist.train_batches(3, seed=5, start_step=2, process_index=1, **kw), 4)
    for x, y in zip(fresh[2:], resumed, strict=True):
        np.testing.assert_array_equal(x['image'], y['image'])


def test_real_array_record_eval(real_mnist_dir):
    mnist = data.open_dataset('mnist', data_dir=real_mnist_dir)
    assert mnist.num_examples('test', **ONE) == 4
    batches = list(mnist.eval_batches(3, 'test', **ONE))
    assert [b['mask'].tolist() for b in batches] == [[True] * 3, [True, False, False]]
    np.testing.assert_array_equal(real_labels(batches), np.array(_ids(real_images(batches))) % 10)
    again = list(mnist.eval_batches(3, 'test', **ONE))
    for x, y in zip(batches, again):  # fixed order
        np.testing.assert_array_equal(x['image'], y['image'])
