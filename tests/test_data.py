"""Tests for zoo.data: the digits default, the TFDS + grain pipeline, sharding, resuming."""

import importlib.util
import itertools

import numpy as np
import pytest
import tensorflow_datasets as tfds
from sklearn.datasets import load_digits

from zoo import data

# `tfds.testing.mock_data` serves `tfds.data_source` without TensorFlow in tfds
# 4.9.10: it patches the ArrayRecordDataSource reader with a generator of
# random examples (deterministic per index) and ignores `data_dir`. Train and
# test splits yield the same examples and every split has `num_examples`.
NUM_MOCK = 20


def _keys(batches):
    """Byte strings of every image in `batches`, to compare examples as sets."""
    return [image.tobytes() for batch in batches for image in batch]


def _take(iterator, n):
    return list(itertools.islice(iterator, n))


# ----------------------------------------------------------------- registry


def test_dataset_info_shapes_and_levels():
    assert data.dataset_info("digits").image_shape == (8, 8, 1)
    assert data.dataset_info("digits").num_levels == 17
    assert data.dataset_info("mnist").image_shape == (28, 28, 1)
    assert data.dataset_info("fashion_mnist").num_levels == 256
    assert data.dataset_info("cifar10").image_shape == (32, 32, 3)
    assert data.dataset_info("celeb_a").image_shape == (64, 64, 3)
    assert data.dataset_info("cifar10").num_dims == 32 * 32 * 3
    assert set(data.DATASETS) == {"digits", "mnist", "fashion_mnist", "cifar10", "celeb_a"}


def test_unknown_dataset_lists_known_names():
    with pytest.raises(ValueError, match="imagenet.*digits.*cifar10"):
        data.dataset_info("imagenet")
    with pytest.raises(ValueError, match="known datasets"):
        data.train_batches("imagenet", 8, seed=0)


# ------------------------------------------------------------------- digits


def test_digits_split_sizes_dtype_levels():
    train, test = data.digits_images("train"), data.digits_images("test")
    assert train.shape == (1497, 8, 8, 1) and test.shape == (300, 8, 8, 1)
    assert train.dtype == np.uint8 and test.dtype == np.uint8
    both = np.concatenate([train, test])
    # 17 gray levels, all of them used.
    np.testing.assert_array_equal(np.unique(both), np.arange(17))
    # The split is a partition of sklearn's 1797 images (which are all distinct).
    original = load_digits().images.astype(np.uint8)[..., None]
    assert sorted(_keys([both])) == sorted(_keys([original]))
    assert not set(_keys([train])) & set(_keys([test]))


def test_digits_split_is_fixed():
    np.testing.assert_array_equal(data.digits_images("test"), data.digits_images("test"))
    assert data.num_examples("digits", process_index=0, process_count=1) == 1497
    assert data.num_examples("digits", "test", process_index=0, process_count=1) == 300
    with pytest.raises(ValueError):
        data.digits_images("validation")


def test_digits_train_batches_deterministic_and_epoch_is_permutation():
    kw = dict(process_index=0, process_count=1)
    a = _take(data.train_batches("digits", 499, seed=3, **kw), 3)
    b = _take(data.train_batches("digits", 499, seed=3, **kw), 3)
    c = _take(data.train_batches("digits", 499, seed=4, **kw), 3)
    assert a[0].shape == (499, 8, 8, 1) and a[0].dtype == np.uint8
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[0], c[0])
    # 3 x 499 = 1497: the first epoch visits every training image once.
    assert sorted(_keys(a)) == sorted(_keys([data.digits_images("train")]))


def test_digits_resume_matches_uninterrupted_stream():
    kw = dict(process_index=0, process_count=1)
    fresh = _take(data.train_batches("digits", 200, seed=7, **kw), 12)
    # start_step=5 lies in the first epoch and its batches cross into later ones.
    resumed = _take(data.train_batches("digits", 200, seed=7, start_step=5, **kw), 7)
    for x, y in zip(fresh[5:], resumed, strict=True):
        np.testing.assert_array_equal(x, y)


def test_digits_shards_are_disjoint_and_cover_the_split():
    per_process = [
        _take(data.train_batches("digits", 499, seed=0, process_index=p, process_count=3), 1)
        for p in range(3)
    ]
    keys = [set(_keys(b)) for b in per_process]
    assert all(len(k) == 499 for k in keys)
    assert not (keys[0] & keys[1]) and not (keys[0] & keys[2]) and not (keys[1] & keys[2])
    assert set().union(*keys) == set(_keys([data.digits_images("train")]))


def test_digits_eval_pads_last_batch_with_mask():
    batches = list(data.eval_batches("digits", 128, process_index=0, process_count=1))
    assert len(batches) == 3
    assert all(b.images.shape == (128, 8, 8, 1) and b.images.dtype == np.uint8 for b in batches)
    assert [int(b.mask.sum()) for b in batches] == [128, 128, 44]
    images = np.concatenate([b.images[b.mask] for b in batches])
    np.testing.assert_array_equal(images, data.digits_images("test"))  # fixed order
    assert not batches[-1].images[~batches[-1].mask].any()  # padding is zeros


def test_eval_every_process_yields_the_same_number_of_batches():
    # 300 test images over 7 processes: shards of 43 and 42 images.
    per_process = [
        list(data.eval_batches("digits", 10, process_index=p, process_count=7)) for p in range(7)
    ]
    assert {len(b) for b in per_process} == {5}
    counts = [sum(int(b.mask.sum()) for b in batches) for batches in per_process]
    assert counts == [43, 43, 43, 43, 43, 43, 42]
    # Interleaving the shards back gives the test split.
    shards = [np.concatenate([b.images[b.mask] for b in batches]) for batches in per_process]
    rebuilt = np.zeros((300, 8, 8, 1), np.uint8)
    for p, shard in enumerate(shards):
        rebuilt[p::7] = shard
    np.testing.assert_array_equal(rebuilt, data.digits_images("test"))


def test_bad_arguments():
    with pytest.raises(ValueError):
        data.train_batches("digits", 0, seed=0, process_index=0, process_count=1)
    with pytest.raises(ValueError):
        data.train_batches("digits", 8, seed=0, process_index=2, process_count=2)
    with pytest.raises(ValueError):
        data.eval_batches("digits", 0, process_index=0, process_count=1)


# --------------------------------------------------------------------- TFDS


@pytest.mark.parametrize(
    "name,shape",
    [("mnist", (28, 28, 1)), ("fashion_mnist", (28, 28, 1)), ("cifar10", (32, 32, 3)),
     ("celeb_a", (64, 64, 3))],
)
def test_tfds_train_and_eval_shapes(name, shape):
    with tfds.testing.mock_data(num_examples=NUM_MOCK):
        kw = dict(data_dir="/unused", process_index=0, process_count=1)
        batch = next(data.train_batches(name, 4, seed=0, **kw))
        evals = list(data.eval_batches(name, 8, **kw))
    assert batch.shape == (4, *shape) and batch.dtype == np.uint8
    assert len(evals) == 3 and [int(b.mask.sum()) for b in evals] == [8, 8, 4]
    assert evals[0].images.shape == (8, *shape) and evals[0].images.dtype == np.uint8


def test_celeb_a_centre_crop():
    # A 218x178 image whose centred 148x148 square is white and the rest black
    # must come out all white at 64x64.
    image = np.zeros((218, 178, 3), np.uint8)
    image[35:183, 15:163] = 255
    out = data._to_image(data.dataset_info("celeb_a"), {"image": image})
    assert out.shape == (64, 64, 3) and out.dtype == np.uint8
    assert out.min() >= 250


def test_tfds_resume_and_determinism():
    kw = dict(data_dir="/unused", process_index=0, process_count=1)
    with tfds.testing.mock_data(num_examples=NUM_MOCK):
        fresh = _take(data.train_batches("mnist", 6, seed=1, **kw), 9)
        again = _take(data.train_batches("mnist", 6, seed=1, **kw), 9)
        resumed = _take(data.train_batches("mnist", 6, seed=1, start_step=4, **kw), 5)
    for x, y in zip(fresh, again):
        np.testing.assert_array_equal(x, y)
    for x, y in zip(fresh[4:], resumed, strict=True):
        np.testing.assert_array_equal(x, y)


def test_tfds_two_processes_see_disjoint_examples():
    with tfds.testing.mock_data(num_examples=NUM_MOCK):
        # One epoch of each 10-example shard: 2 batches of 5.
        streams = [
            data.train_batches("mnist", 5, seed=0, data_dir="/unused", process_index=p, process_count=2)
            for p in range(2)
        ]
        seen = [set(_keys(_take(stream, 2))) for stream in streams]
        source = tfds.data_source("mnist", split="train")
        everything = {source[i]["image"].tobytes() for i in range(len(source))}
    assert len(everything) == NUM_MOCK
    assert len(seen[0]) == len(seen[1]) == NUM_MOCK // 2
    assert not seen[0] & seen[1]
    assert seen[0] | seen[1] == everything


def test_not_prepared_error_says_how_to_prepare(tmp_path):
    with pytest.raises(data.DatasetNotPreparedError, match="make data DATASET=cifar10") as e:
        data.train_batches("cifar10", 8, seed=0, data_dir=tmp_path, process_index=0, process_count=1)
    assert isinstance(e.value, FileNotFoundError)
    assert str(tmp_path) in str(e.value)
    with pytest.raises(data.DatasetNotPreparedError, match="make data DATASET=mnist"):
        data.eval_batches("mnist", 8, data_dir=tmp_path, process_index=0, process_count=1)


def test_prepare_command(tmp_path, capsys):
    assert data.main(["prepare", "digits"]) == 0
    assert "nothing to prepare" in capsys.readouterr().out
    if all(importlib.util.find_spec(m) for m in ("tensorflow", "importlib_resources")):
        pytest.skip("TensorFlow is installed: prepare would download for real.")
    assert data.main(["prepare", "cifar10", "--data-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "tensorflow" in err.lower() and "pip install -e '.[data]'" in err
    with pytest.raises(SystemExit):
        data.main(["prepare", "imagenet"])


# ------------------------------------------- a real, tiny array_record dataset

# mock_data replaces the reader and the example parser, so it cannot show that
# real prepared files are readable without TensorFlow. This fixture builds a
# genuine array_record `mnist` (dataset_info.json, shards, PNG-encoded images)
# with the real TFDS builder. Only the PNG encoder is swapped for PIL's: it is
# the one TensorFlow-only step of building such a dataset. Reading is untouched.
NUM_REAL_TRAIN, NUM_REAL_TEST = 10, 4


@pytest.fixture(scope="module")
def real_mnist_dir(tmp_path_factory):
    import io

    from PIL import Image
    from tensorflow_datasets.image_classification import mnist as mnist_lib

    class TinyMnist(mnist_lib.MNIST, skip_registration=True):
        name = "mnist"  # written where tfds.data_source("mnist") looks

        def _split_generators(self, dl_manager):
            return {"train": self._examples(0, NUM_REAL_TRAIN),
                    "test": self._examples(100, NUM_REAL_TEST)}

        def _examples(self, start, n):
            # Pixel value = example id, so every image says who it is.
            for i in range(start, start + n):
                yield i, {"image": np.full((28, 28, 1), i, np.uint8), "label": i % 10}

    # For a builder defined in a dotted module, tfds looks for its source file
    # through importlib_resources, which tfds 4.9.10 uses but does not install
    # on Python >= 3.9; a top-level module name skips that lookup.
    TinyMnist.__module__ = "tiny_mnist"

    def png(self, image):
        buffer = io.BytesIO()
        Image.fromarray(np.asarray(image)[..., 0]).save(buffer, format="PNG")
        return buffer.getvalue()

    data_dir = tmp_path_factory.mktemp("tfds")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(tfds.features.Image, "encode_example", png)
        TinyMnist(data_dir=data_dir, file_format="array_record").download_and_prepare(
            download_config=tfds.download.DownloadConfig(
                compute_stats=tfds.download.ComputeStatsMode.SKIP))
    return data_dir


def _ids(batches):
    return sorted(int(b) for batch in batches for b in batch[:, 0, 0, 0])


def test_real_array_record_train_sharding_and_resume(real_mnist_dir):
    kw = dict(data_dir=real_mnist_dir, process_count=2)
    # Each process: one epoch of its 5-example shard is one batch of 5.
    shards = [_take(data.train_batches("mnist", 5, seed=0, process_index=p, **kw), 1) for p in range(2)]
    assert shards[0][0].shape == (5, 28, 28, 1) and shards[0][0].dtype == np.uint8
    assert sorted(_ids(shards[0]) + _ids(shards[1])) == list(range(NUM_REAL_TRAIN))
    fresh = _take(data.train_batches("mnist", 3, seed=5, process_index=1, **kw), 6)
    resumed = _take(data.train_batches("mnist", 3, seed=5, start_step=2, process_index=1, **kw), 4)
    for x, y in zip(fresh[2:], resumed, strict=True):
        np.testing.assert_array_equal(x, y)
    assert data.num_examples("mnist", "test", real_mnist_dir, process_index=0, process_count=1) == 4


def test_real_array_record_eval(real_mnist_dir):
    batches = list(data.eval_batches("mnist", 3, real_mnist_dir, process_index=0, process_count=1))
    assert [b.mask.tolist() for b in batches] == [[True] * 3, [True, False, False]]
    ids = _ids([b.images[b.mask] for b in batches])
    assert ids == list(range(100, 100 + NUM_REAL_TEST))
    again = list(data.eval_batches("mnist", 3, real_mnist_dir, process_index=0, process_count=1))
    for x, y in zip(batches, again):  # fixed order
        np.testing.assert_array_equal(x.images, y.images)
