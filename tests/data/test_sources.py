"""Tests for zoo.data sources: the registry, digits, TFDS, npz files, image folders and
the train / validation / test carve-out."""

import importlib.util
import os

import numpy as np
import pytest
import tensorflow_datasets as tfds
from PIL import Image
from sklearn.datasets import load_digits

from tests.data.helpers import NUM_REAL_TEST, NUM_REAL_TRAIN, ONE, REAL_TEST_FIRST_ID, keys, real_images, real_labels
from zoo import data
from zoo.data import sources
from zoo.data.__main__ import main

# `tfds.testing.mock_data` serves `tfds.data_source` without TensorFlow in tfds
# 4.9.10: it patches the ArrayRecordDataSource reader with a generator of random
# examples (deterministic per index) and ignores `data_dir`. Train and test splits
# yield the same examples and every split has `num_examples`.
NUM_MOCK = 20


def _all(dataset, split, batch_size=64):
    """Every real example of `split` in order: (images, labels or None)."""
    batches = list(dataset.eval_batches(batch_size, split, **ONE))
    return real_images(batches), (real_labels(batches) if 'label' in batches[0] else None)


def _every_image(dataset):
    """The images of all non-empty splits, concatenated."""
    return np.concatenate([_all(dataset, s)[0] for s in data.SPLITS if dataset.num_examples(s, **ONE)])


# ----------------------------------------------------------------- registry


def test_dataset_info_of_builtins_needs_no_data():
    assert data.dataset_info('digits').image_shape == (8, 8, 1)
    assert data.dataset_info('digits').num_levels == 17
    assert data.dataset_info('mnist').image_shape == (28, 28, 1)
    assert data.dataset_info('fashion_mnist').num_levels == 256
    assert data.dataset_info('cifar10').image_shape == (32, 32, 3)
    assert data.dataset_info('celeb_a').image_shape == (64, 64, 3)
    assert data.dataset_info('cifar10').num_dims == 32 * 32 * 3
    assert [data.dataset_info(n).num_classes for n in data.DATASETS] == [10, 10, 10, 10, None]
    assert set(data.DATASETS) == {'digits', 'mnist', 'fashion_mnist', 'cifar10', 'celeb_a'}
    assert data.dataset_info('celeb_a', image_size=32).image_shape == (32, 32, 3)
    assert data.dataset_info('mnist', validation_fraction=0.25).validation_fraction == 0.25


def test_unknown_dataset_lists_known_names_and_forms():
    for call in (data.dataset_info, data.open_dataset):
        with pytest.raises(ValueError, match=r"imagenet.*known datasets: digits.*cifar10.*'npz:PATH'.*'folder:PATH'"):
            call('imagenet')


def test_bad_open_arguments():
    with pytest.raises(ValueError, match=r'validation_fraction must be in \[0, 1\), got 1'):
        data.open_dataset('digits', validation_fraction=1)
    with pytest.raises(ValueError, match='validation_fraction must be in'):
        data.dataset_info('mnist', validation_fraction=-0.1)
    with pytest.raises(ValueError, match='image_size=16 is supported for celeb_a and folder: datasets only'):
        data.open_dataset('digits', image_size=16)
    assert data.open_dataset('digits', image_size=8).info.image_shape == (8, 8, 1)  # its own size is fine


# ------------------------------------------------------------------ carving


def test_carve_is_a_fixed_partition_and_nested_in_the_fraction():
    kept, held = sources.carve(1497, 0.1, seed=5)
    assert (len(kept), len(held)) == (1347, 150)
    assert np.all(np.diff(kept) > 0) and np.all(np.diff(held) > 0)  # sorted, no repeats
    np.testing.assert_array_equal(np.sort(np.concatenate([kept, held])), np.arange(1497))
    again = sources.carve(1497, 0.1, seed=5)
    np.testing.assert_array_equal(held, again[1])
    assert set(held) < set(sources.carve(1497, 0.2, seed=5)[1])  # more validation: a superset
    assert len(sources.carve(1497, 0.0, seed=5)[1]) == 0
    assert set(held) != set(sources.carve(1497, 0.1, seed=6)[1])


# ------------------------------------------------------------------- digits


def test_digits_stored_splits_are_the_fixed_permutation_of_sklearn():
    train, test = data.digits_images('train'), data.digits_images('test')
    assert train.shape == (1497, 8, 8, 1) and test.shape == (300, 8, 8, 1)
    assert train.dtype == np.uint8 and test.dtype == np.uint8
    original = load_digits().images.astype(np.uint8)[..., None]
    order = np.random.default_rng(0).permutation(1797)
    np.testing.assert_array_equal(test, original[order[1497:]])  # the test split of earlier versions
    np.testing.assert_array_equal(train, original[order[:1497]])
    np.testing.assert_array_equal(np.unique(train), np.arange(17))  # 17 gray levels, all used
    train[:] = 0  # a copy: the cache is untouched
    assert data.digits_images('train').any()
    with pytest.raises(ValueError, match="Unknown digits split 'validation'"):
        data.digits_images('validation')


def test_digits_train_validation_test_partition_the_stored_splits():
    dataset = data.open_dataset('digits')
    assert [dataset.num_examples(s, **ONE) for s in data.SPLITS] == [1347, 150, 300]
    train, validation, test = (_all(dataset, s)[0] for s in data.SPLITS)
    # sklearn's 1797 digits are all distinct, so images name examples.
    assert len(set(keys([train, validation, test]))) == 1797
    assert sorted(keys([train, validation])) == sorted(keys([data.digits_images('train')]))
    np.testing.assert_array_equal(test, data.digits_images('test'))
    # The carve-out is fixed: the same on every opening, whatever the run.
    np.testing.assert_array_equal(validation, _all(data.open_dataset('digits'), 'validation')[0])


def test_digits_labels_are_sklearns_targets():
    digits = load_digits()
    target_of = {k: t for k, t in zip(keys([digits.images.astype(np.uint8)[..., None]]), digits.target)}
    dataset = data.open_dataset('digits')
    assert dataset.info.num_classes == 10
    for split in data.SPLITS:
        images, labels = _all(dataset, split)
        assert labels.dtype == np.int32
        np.testing.assert_array_equal(labels, [target_of[k] for k in keys([images])])


def test_validation_fraction_zero_and_larger():
    none = data.open_dataset('digits', validation_fraction=0)
    assert none.num_examples('train', **ONE) == 1497 and none.num_examples('validation', **ONE) == 0
    with pytest.raises(ValueError, match='no validation split: validation_fraction is 0'):
        none.eval_batches(8, 'validation', **ONE)
    more = data.open_dataset('digits', validation_fraction=0.2)
    assert more.info.validation_fraction == 0.2
    assert more.num_examples('validation', **ONE) == round(0.2 * 1497)
    assert set(keys([_all(data.open_dataset('digits'), 'validation')[0]])) < set(keys([_all(more, 'validation')[0]]))


# --------------------------------------------------------------------- TFDS


@pytest.mark.parametrize(
    'name,shape,labelled',
    [
        ('mnist', (28, 28, 1), True),
        ('fashion_mnist', (28, 28, 1), True),
        ('cifar10', (32, 32, 3), True),
        ('celeb_a', (64, 64, 3), False),
    ],
)
def test_tfds_train_and_eval_shapes(name, shape, labelled):
    with tfds.testing.mock_data(num_examples=NUM_MOCK):
        dataset = data.open_dataset(name, data_dir='/unused')
        batch = next(dataset.train_batches(4, seed=0, **ONE))
        evals = list(dataset.eval_batches(8, 'test', **ONE))
    assert dataset.info == data.dataset_info(name)
    assert batch['image'].shape == (4, *shape) and batch['image'].dtype == np.uint8
    assert [int(b['mask'].sum()) for b in evals] == [8, 8, 4]
    assert evals[0]['image'].shape == (8, *shape) and evals[0]['image'].dtype == np.uint8
    assert ('label' in batch) == ('label' in evals[0]) == labelled
    if labelled:
        assert batch['label'].dtype == np.int32 and set(batch['label']) <= set(range(10))


def test_tfds_validation_is_carved_from_train():
    with tfds.testing.mock_data(num_examples=NUM_MOCK):
        dataset = data.open_dataset('mnist', data_dir='/unused')
        sizes = [dataset.num_examples(s, **ONE) for s in data.SPLITS]
        train, validation = _all(dataset, 'train')[0], _all(dataset, 'validation')[0]
        source = tfds.data_source('mnist', split='train')
        stored = [source[i]['image'] for i in range(len(source))]
    assert sizes == [18, 2, NUM_MOCK]
    assert not set(keys([train])) & set(keys([validation]))
    assert sorted(keys([train, validation])) == sorted(keys([np.stack(stored)]))


def test_celeb_a_centre_crop_and_image_size():
    # A 218x178 image whose centred 148x148 square is white and the rest black
    # must come out all white.
    image = np.zeros((218, 178, 3), np.uint8)
    image[35:183, 15:163] = 255
    out = data.centre_crop_resize(image, 64, crop=148)
    assert out.shape == (64, 64, 3) and out.dtype == np.uint8 and out.min() >= 250
    with tfds.testing.mock_data(num_examples=NUM_MOCK):
        batch = next(data.open_dataset('celeb_a', data_dir='/unused', image_size=32).train_batches(2, 0, **ONE))
    assert batch['image'].shape == (2, 32, 32, 3)


def test_not_prepared_error_says_how_to_prepare(tmp_path):
    with pytest.raises(data.DatasetNotPreparedError, match='make data DATASET=cifar10') as e:
        data.open_dataset('cifar10', data_dir=tmp_path)
    assert isinstance(e.value, FileNotFoundError)
    assert str(tmp_path) in str(e.value)
    with pytest.raises(data.DatasetNotPreparedError, match='make data DATASET=mnist'):
        data.open_dataset('mnist', data_dir=tmp_path)
    assert data.dataset_info('cifar10', data_dir=tmp_path).image_shape == (32, 32, 3)


def test_prepare_command(tmp_path, capsys):
    assert main(['prepare', 'digits']) == 0
    assert 'nothing to prepare' in capsys.readouterr().out
    if all(importlib.util.find_spec(m) for m in ('tensorflow', 'importlib_resources')):
        pytest.skip('TensorFlow is installed: prepare would download for real.')
    assert main(['prepare', 'cifar10', '--data-dir', str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1  # one line, no traceback
    assert 'tensorflow' in err.lower() and "pip install -e '.[data]'" in err
    with pytest.raises(SystemExit):
        main(['prepare', 'imagenet'])


def test_real_array_record_splits_and_labels(real_mnist_dir):
    dataset = data.open_dataset('mnist', data_dir=real_mnist_dir)
    ids = {}
    for split in data.SPLITS:
        images, labels = _all(dataset, split, batch_size=3)
        ids[split] = images[:, 0, 0, 0].astype(int)
        np.testing.assert_array_equal(labels, ids[split] % 10)  # each label belongs to its image
    assert len(ids['validation']) == 1 and len(ids['train']) == NUM_REAL_TRAIN - 1
    assert sorted(np.concatenate([ids['train'], ids['validation']])) == list(range(NUM_REAL_TRAIN))
    source = tfds.data_source('mnist', split='train', data_dir=real_mnist_dir)
    stored = [int(source[i]['image'][0, 0, 0]) for i in range(len(source))]  # TFDS's own order
    for split in ('train', 'validation'):
        assert list(ids[split]) == [i for i in stored if i in ids[split]]  # kept in stored order
    assert sorted(ids['test']) == list(range(REAL_TEST_FIRST_ID, REAL_TEST_FIRST_ID + NUM_REAL_TEST))


# ---------------------------------------------------------------------- npz


def _write_npz(path, **arrays):
    np.savez(path, **arrays)
    return f'npz:{path}'


def _numbered(n, shape=(4, 4, 1), start=0):
    """n uint8 images, image i filled with start + i."""
    return np.stack([np.full(shape, start + i, np.uint8) for i in range(n)])


def test_npz_round_trip_with_labels(tmp_path):
    x_train, x_test = _numbered(40, (5, 6, 3)), _numbered(7, (5, 6, 3), start=200)
    name = _write_npz(
        tmp_path / 'd.npz', x_train=x_train, x_test=x_test, y_train=np.arange(40) % 3, y_test=np.arange(7) % 5
    )
    dataset = data.open_dataset(name)
    assert dataset.info.image_shape == (5, 6, 3) and dataset.info.num_levels == 256
    assert dataset.info.num_classes == 5  # max label + 1 over both splits
    train, train_labels = _all(dataset, 'train', 16)
    validation, validation_labels = _all(dataset, 'validation', 16)
    test, test_labels = _all(dataset, 'test', 16)
    np.testing.assert_array_equal(test, x_test)
    np.testing.assert_array_equal(test_labels, np.arange(7) % 5)
    ids = np.concatenate([train, validation])[:, 0, 0, 0].astype(int)
    assert (len(train), len(validation)) == (36, 4) and sorted(ids) == list(range(40))
    np.testing.assert_array_equal(np.concatenate([train, validation]), x_train[ids])  # images unchanged
    np.testing.assert_array_equal(np.concatenate([train_labels, validation_labels]), ids % 3)


def test_npz_gray_nhw_unlabelled(tmp_path):
    x_train = _numbered(10, (3, 3, 1))[..., 0]
    name = _write_npz(tmp_path / 'gray.npz', x_train=x_train, x_test=x_train[:2])
    dataset = data.open_dataset(name, validation_fraction=0)
    assert dataset.info.image_shape == (3, 3, 1) and dataset.info.num_classes is None
    batch = next(dataset.train_batches(4, seed=0, **ONE))
    assert set(batch) == {'image', 'index'} and batch['image'].shape == (4, 3, 3, 1)
    np.testing.assert_array_equal(_all(dataset, 'train')[0], x_train[..., None])
    assert _all(dataset, 'train')[1] is None


def test_npz_real_mnist_layout(tmp_path):
    # The layout of the project's real-image check (9000 / 1000 MNIST digits padded
    # to 32x32), with random pixels.
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (100, 32, 32, 1), dtype=np.uint8)
    y = rng.integers(0, 10, 100)
    name = _write_npz(tmp_path / 'm.npz', x_train=x[:90], x_test=x[90:], y_train=y[:90], y_test=y[90:])
    info = data.dataset_info(name)
    assert (info.image_shape, info.num_classes, info.name) == ((32, 32, 1), int(y.max()) + 1, name)


@pytest.mark.parametrize(
    'arrays,message',
    [
        (dict(x_test=np.zeros((2, 4, 4), np.uint8)), r'missing x_train; found arrays: x_test'),
        (
            dict(x_train=np.zeros((2, 4, 4), np.float32), x_test=np.zeros((2, 4, 4), np.uint8)),
            r'x_train has dtype float32; images must be uint8 with values 0..255',
        ),
        (
            dict(x_train=np.zeros((2, 4), np.uint8), x_test=np.zeros((2, 4), np.uint8)),
            r'x_train has shape \(2, 4\); images must be \(N, H, W, C\)',
        ),
        (
            dict(x_train=np.zeros((2, 4, 4), np.uint8), x_test=np.zeros((2, 5, 5), np.uint8)),
            r'x_train images are \(4, 4, 1\) but x_test images are \(5, 5, 1\)',
        ),
        (
            dict(
                x_train=np.zeros((2, 4, 4), np.uint8),
                x_test=np.zeros((2, 4, 4), np.uint8),
                y_train=np.zeros(3, int),
                y_test=np.zeros(2, int),
            ),
            r'y_train has 3 labels but x_train has 2 images',
        ),
        (
            dict(x_train=np.zeros((2, 4, 4), np.uint8), x_test=np.zeros((2, 4, 4), np.uint8), y_train=np.zeros(2, int)),
            r'y_train is given but y_test is not',
        ),
        (
            dict(
                x_train=np.zeros((2, 4, 4), np.uint8),
                x_test=np.zeros((2, 4, 4), np.uint8),
                y_train=np.zeros(2),
                y_test=np.zeros(2),
            ),
            r'y_train .* dtype float64; labels must be a 1-D integer array',
        ),
    ],
)
def test_npz_errors_name_the_file_and_the_problem(tmp_path, arrays, message):
    name = _write_npz(tmp_path / 'bad.npz', **arrays)
    with pytest.raises(ValueError, match=f'npz dataset {tmp_path / "bad.npz"}: {message}'):
        data.open_dataset(name)


def test_npz_missing_or_not_npz(tmp_path):
    with pytest.raises(ValueError, match=f'npz dataset {tmp_path / "nope.npz"}: no such file'):
        data.open_dataset(f'npz:{tmp_path / "nope.npz"}')
    np.save(tmp_path / 'plain.npy', np.zeros(3))
    with pytest.raises(ValueError, match='not a readable .npz archive'):
        data.open_dataset(f'npz:{tmp_path / "plain.npy"}')
    (tmp_path / 'text.npz').write_text('hello')
    with pytest.raises(ValueError, match='not a readable .npz archive'):
        data.open_dataset(f'npz:{tmp_path / "text.npz"}')


# ------------------------------------------------------------------- folder


def _write_images(folder, images, prefix='im', ext='.png'):
    """Writes uint8 (H, W, C) images as files prefix000.png, ...; returns their paths."""
    os.makedirs(folder, exist_ok=True)
    paths = []
    for i, image in enumerate(images):
        paths.append(os.path.join(folder, f'{prefix}{i:03d}{ext}'))
        Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image).save(paths[-1])
    return paths


def _colours(n, shape=(6, 5, 3), start=0):
    """n distinct images with a per-image pattern, so every pixel and channel matters."""
    rng = np.random.default_rng(start)
    return [rng.integers(0, 256, shape, dtype=np.uint8) for _ in range(n)]


def test_folder_flat_round_trip_and_fixed_test_carve(tmp_path):
    images = _colours(30)
    _write_images(tmp_path, images)
    dataset = data.open_dataset(f'folder:{tmp_path}')
    assert dataset.info.image_shape == (6, 5, 3) and dataset.info.num_classes is None
    assert [dataset.num_examples(s, **ONE) for s in data.SPLITS] == [24, 3, 3]
    got = np.concatenate([_all(dataset, s)[0] for s in data.SPLITS])
    assert sorted(keys([got])) == sorted(keys([np.stack(images)]))  # every image back, unchanged
    np.testing.assert_array_equal(
        _all(dataset, 'test')[0], _all(data.open_dataset(f'folder:{tmp_path}', validation_fraction=0.5), 'test')[0]
    )


def test_folder_class_subfolders_give_sorted_labels_and_gray_stays_gray(tmp_path):
    label_of = {}
    for start, (name, label) in enumerate([('cat', 2), ('ant', 0), ('bee', 1)]):
        images = _colours(10, (4, 4, 1), start=start)
        _write_images(tmp_path / name, images)
        label_of.update((k, label) for k in keys([np.stack(images)]))
    dataset = data.open_dataset(f'folder:{tmp_path}')
    assert dataset.info.class_names == ('ant', 'bee', 'cat') and dataset.info.num_classes == 3
    assert dataset.info.image_shape == (4, 4, 1)  # all gray: one channel
    seen = []
    for split in data.SPLITS:
        images, labels = _all(dataset, split)
        np.testing.assert_array_equal(labels, [label_of[k] for k in keys([images])])
        seen += keys([images])
    assert sorted(seen) == sorted(label_of)


def test_folder_train_test_subfolders_are_the_stored_splits(tmp_path):
    train, test = _colours(8, (3, 3, 3)), _colours(3, (3, 3, 3), start=99)
    _write_images(tmp_path / 'train' / 'a', train[:4])
    _write_images(tmp_path / 'train' / 'b', train[4:])
    _write_images(tmp_path / 'test' / 'b', test)
    dataset = data.open_dataset(f'folder:{tmp_path}', validation_fraction=0.25)
    assert dataset.info.class_names == ('a', 'b')
    test_images, test_labels = _all(dataset, 'test')
    np.testing.assert_array_equal(test_images, np.stack(test))  # sorted file order
    np.testing.assert_array_equal(test_labels, [1, 1, 1])
    assert [dataset.num_examples(s, **ONE) for s in ('train', 'validation')] == [6, 2]


def test_folder_mixed_gray_and_colour_become_rgb(tmp_path):
    _write_images(tmp_path, _colours(2, (4, 4, 1)), prefix='g')
    _write_images(tmp_path, _colours(2, (4, 4, 3)), prefix='c')
    gray = np.asarray(Image.open(tmp_path / 'g000.png'))
    dataset = data.open_dataset(f'folder:{tmp_path}', validation_fraction=0)
    assert dataset.info.image_shape == (4, 4, 3)
    images = _every_image(dataset)
    assert any(np.array_equal(image, np.repeat(gray[..., None], 3, -1)) for image in images)


def test_folder_image_size_crops_the_centre_and_resizes(tmp_path):
    wide = np.zeros((20, 40, 3), np.uint8)
    wide[:, 10:30] = 255  # the centred 20x20 square is white
    tall = np.full((30, 10, 3), 7, np.uint8)
    _write_images(tmp_path, [wide, tall])
    _write_images(tmp_path, [np.full((9, 9, 3), 80, np.uint8)], prefix='jpeg', ext='.JPG')
    dataset = data.open_dataset(f'folder:{tmp_path}', image_size=8, validation_fraction=0)
    assert dataset.info.image_shape == (8, 8, 3)
    images = _every_image(dataset)
    means = sorted(float(image.mean()) for image in images)
    assert len(images) == 3 and means[0] == 7 and abs(means[1] - 80) < 3 and means[2] >= 250


def test_folder_mixed_sizes_error_names_both_and_image_size(tmp_path):
    _write_images(tmp_path, [np.zeros((4, 4, 3), np.uint8)], prefix='a')
    _write_images(tmp_path, [np.zeros((5, 7, 3), np.uint8)], prefix='b')
    with pytest.raises(
        ValueError,
        match=r'different sizes: .*a000.png is 4x4 and .*b000.png is 5x7 .*'
        r'Pass image_size .*--set image_size=64',
    ):
        data.open_dataset(f'folder:{tmp_path}')


def test_folder_errors(tmp_path):
    with pytest.raises(ValueError, match=f'Image folder {tmp_path / "nope"} does not exist'):
        data.open_dataset(f'folder:{tmp_path / "nope"}')
    (tmp_path / 'empty').mkdir()
    (tmp_path / 'empty' / 'notes.txt').write_text('not an image')
    with pytest.raises(ValueError, match=r'No images found in .*empty; accepted extensions: .png, .jpg, .jpeg'):
        data.open_dataset(f'folder:{tmp_path / "empty"}')
    mixed = tmp_path / 'mixed'
    _write_images(mixed / 'cls', _colours(2))
    _write_images(mixed, _colours(1), prefix='loose')
    with pytest.raises(
        ValueError, match=r'class subfolders \(cls\) and also images directly inside it \(loose000.png\)'
    ):
        data.open_dataset(f'folder:{mixed}')
    broken = tmp_path / 'broken'
    _write_images(broken, _colours(2))
    (broken / 'zz.png').write_bytes(b'not a png')
    with pytest.raises(ValueError, match=r'Cannot read image .*zz.png'):
        data.open_dataset(f'folder:{broken}')


def test_folder_is_cached_until_it_changes(tmp_path):
    _write_images(tmp_path, _colours(5))
    first = data.open_dataset(f'folder:{tmp_path}')
    again = data.open_dataset(f'folder:{tmp_path}', validation_fraction=0.3)
    assert again.splits['test'].read.images is first.splits['test'].read.images  # decoded once
    _write_images(tmp_path, _colours(1, start=50), prefix='new')
    assert sum(data.open_dataset(f'folder:{tmp_path}').num_examples(s, **ONE) for s in data.SPLITS) == 6
