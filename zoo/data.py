"""Image datasets: the embedded `digits` default and TFDS sources read through grain.

Every dataset yields integer pixels as uint8 arrays of shape (N, H, W, C);
dequantisation and scaling belong to the model side (`zoo.images`).

* `digits` is scikit-learn's bundled 8x8 handwritten digits: 1797 images with
    values 0..16 (17 gray levels), no network needed. It is split once with a
    fixed permutation (`np.random.default_rng(0)`): the first 1497 images of the
    permutation are `train`, the last 300 are `test`.
* `mnist`, `fashion_mnist`, `cifar10`, `celeb_a` are read with
    `tfds.data_source` from array_record files prepared beforehand by
    `make data DATASET=<name>` (`python -m zoo.data prepare <name>`), which needs
    TensorFlow and the network; reading them needs neither.

Pipelines (the same for every dataset, in-memory or TFDS):

* Sharding: process `p` of `P` reads examples `p, p + P, p + 2P, ...` of the
    split, so hosts see disjoint examples; `batch_size` is per process.
* Training stream: the shard is shuffled with `seed`, reshuffled every epoch,
    repeated forever and cut into full batches (batches may straddle epochs).
    Batch `k` is a pure function of (dataset, seed, batch size, shard), so
    `train_batches(..., start_step=k)` resumes exactly where an uninterrupted
    run would be after `k` steps.
* Evaluation: the whole test shard in its stored order; the last batch is
    padded with zero images and comes with a boolean mask, and every process
    yields the same number of batches (so jitted, data-parallel evaluation sees
    one shape and no host waits on another).

Command line: `python -m zoo.data prepare <name> [--data-dir DIR]`.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import importlib.util
import math
import os
import sys
from collections.abc import Iterator
from typing import Any, NamedTuple

import numpy as np

_DIGITS_SEED = 0
_DIGITS_NUM_TEST = 300

# celeb_a images are 218x178; the centred 148x148 crop resized to 64x64 is the
# preprocessing of the RealNVP and Glow CelebA experiments.
_CELEBA_CROP = 148
_CELEBA_SIZE = 64


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """Static facts about an image dataset.

    Attributes:
        name: the zoo name (`digits`, `mnist`, ...).
        image_shape: (H, W, C) of the images the pipelines yield.
        num_levels: number of gray levels per channel (pixels are 0..num_levels-1);
            bits/dim use log2(num_levels).
        train_split: split name of the training data.
        test_split: split name of the evaluation data.
        tfds_name: TFDS builder name, or None for the embedded dataset.
    """

    name: str
    image_shape: tuple[int, int, int]
    num_levels: int
    train_split: str = "train"
    test_split: str = "test"
    tfds_name: str | None = None

    @property
    def num_dims(self) -> int:
        """Number of scalar dimensions per image, H * W * C."""
        return math.prod(self.image_shape)


_DATASETS = {
    info.name: info
    for info in [
        DatasetInfo("digits", (8, 8, 1), 17),
        DatasetInfo("mnist", (28, 28, 1), 256, tfds_name="mnist"),
        DatasetInfo("fashion_mnist", (28, 28, 1), 256, tfds_name="fashion_mnist"),
        DatasetInfo("cifar10", (32, 32, 3), 256, tfds_name="cifar10"),
        DatasetInfo("celeb_a", (_CELEBA_SIZE, _CELEBA_SIZE, 3), 256, tfds_name="celeb_a"),
    ]
}

DATASETS = tuple(_DATASETS)


class DatasetNotPreparedError(FileNotFoundError):
    """A TFDS dataset has no prepared array_record files in the data directory."""


class EvalBatch(NamedTuple):
    """One evaluation batch: `images` uint8 (B, H, W, C), zero-padded at the end
    of the split, and `mask` bool (B,), True for real examples."""

    images: np.ndarray
    mask: np.ndarray


def dataset_info(name: str) -> DatasetInfo:
    """Returns the `DatasetInfo` of `name`; raises ValueError for an unknown name."""
    try:
        return _DATASETS[name]
    except KeyError:
        raise ValueError(
            f"Unknown dataset {name!r}; known datasets: {', '.join(DATASETS)}."
        ) from None


def default_data_dir(data_dir: str | os.PathLike | None = None) -> str:
    """Returns `data_dir`, else $TFDS_DATA_DIR, else ~/tensorflow_datasets."""
    if data_dir:
        return os.fspath(data_dir)
    return os.environ.get("TFDS_DATA_DIR") or os.path.expanduser("~/tensorflow_datasets")


@functools.cache
def _digits_splits() -> dict[str, np.ndarray]:
    from sklearn.datasets import load_digits

    images = load_digits().images.astype(np.uint8)[..., None]
    order = np.random.default_rng(_DIGITS_SEED).permutation(len(images))
    num_train = len(images) - _DIGITS_NUM_TEST
    return {"train": images[order[:num_train]], "test": images[order[num_train:]]}


def _digits_split(split: str) -> np.ndarray:
    splits = _digits_splits()
    if split not in splits:
        raise ValueError(f"Unknown digits split {split!r}; use 'train' or 'test'.")
    return splits[split]


def digits_images(split: str) -> np.ndarray:
    """Returns the `digits` split ('train': 1497, 'test': 300) as uint8 (N, 8, 8, 1), values 0..16."""
    # A copy, so callers cannot corrupt the cached split.
    return _digits_split(split).copy()


def _not_prepared_message(name: str, data_dir: str) -> str:
    return (
        f"Dataset {name!r} is not prepared (array_record format) in {data_dir}.\n"
        f"Prepare it once with:\n"
        f"    make data DATASET={name} DATA_DIR={data_dir}\n"
        f"(runs `python -m zoo.data prepare {name} --data-dir {data_dir}`; building needs "
        f"TensorFlow and the network: pip install -e '.[data]').\n"
        f"The embedded dataset 'digits' needs no preparation."
    )


def _source(name: str, split: str, data_dir: str | os.PathLike | None):
    """Returns a random-access sequence over one split (elements as stored)."""
    info = dataset_info(name)
    if info.tfds_name is None:
        return _digits_split(split)

    import tensorflow_datasets as tfds

    data_dir = default_data_dir(data_dir)
    try:
        # download=False: building needs TensorFlow, which the readers must not need.
        return tfds.data_source(info.tfds_name, split=split, data_dir=data_dir, download=False)
    except (NotImplementedError, FileNotFoundError, AssertionError) as e:
        # tfds raises NotImplementedError ("Random access data source for file
        # format TFRECORD ...") when no prepared version exists.
        raise DatasetNotPreparedError(_not_prepared_message(name, data_dir)) from e


def _to_image(info: DatasetInfo, example: Any) -> np.ndarray:
    """Maps one stored example to a uint8 (H, W, C) image of `info.image_shape`."""
    image = example if info.tfds_name is None else example["image"]
    image = np.asarray(image, dtype=np.uint8)
    if info.name == "celeb_a":
        image = _celeba_crop_resize(image)
    return image


def _celeba_crop_resize(image: np.ndarray) -> np.ndarray:
    from PIL import Image

    h, w = image.shape[:2]
    top, left = (h - _CELEBA_CROP) // 2, (w - _CELEBA_CROP) // 2
    crop = image[top : top + _CELEBA_CROP, left : left + _CELEBA_CROP]
    # PIL's bicubic resize antialiases when shrinking.
    resized = Image.fromarray(crop).resize(
        (_CELEBA_SIZE, _CELEBA_SIZE), Image.Resampling.BICUBIC
    )
    return np.asarray(resized, dtype=np.uint8)


def _shard(process_index: int | None, process_count: int | None) -> tuple[int, int]:
    if process_index is None or process_count is None:
        import jax

        process_index = jax.process_index() if process_index is None else process_index
        process_count = jax.process_count() if process_count is None else process_count
    if not 0 <= process_index < process_count:
        raise ValueError(f"process_index {process_index} not in [0, {process_count}).")
    return process_index, process_count


def _read_options(name: str):
    import grain

    # In-memory arrays are faster without reader threads (GIL contention);
    # TFDS reads and decodes, which threads overlap.
    if dataset_info(name).tfds_name is None:
        return grain.ReadOptions(num_threads=0, prefetch_buffer_size=0)
    return grain.ReadOptions(num_threads=8, prefetch_buffer_size=256)


def num_examples(
    name: str,
    split: str | None = None,
    data_dir: str | os.PathLike | None = None,
    *,
    process_index: int | None = None,
    process_count: int | None = None,
) -> int:
    """Returns the number of examples of `split` (default: train) in this process's shard."""
    info = dataset_info(name)
    p, num_p = _shard(process_index, process_count)
    n = len(_source(name, split or info.train_split, data_dir))
    return len(range(p, n, num_p))


def train_batches(
    name: str,
    batch_size: int,
    seed: int,
    start_step: int = 0,
    data_dir: str | os.PathLike | None = None,
    *,
    process_index: int | None = None,
    process_count: int | None = None,
) -> Iterator[np.ndarray]:
    """Returns an endless iterator of uint8 (batch_size, H, W, C) training batches.

    The stream is this process's shard of the train split, shuffled with `seed`,
    reshuffled each epoch, repeated forever. Its k-th batch depends only on
    (name, batch_size, seed, shard), so starting at `start_step=k` yields the
    same batches as a fresh stream after k `next` calls. `batch_size` is per
    process; `process_index`/`process_count` default to JAX's.
    """
    import grain

    info = dataset_info(name)
    if batch_size < 1 or start_step < 0:
        raise ValueError(f"Need batch_size >= 1 and start_step >= 0, got {batch_size}, {start_step}.")
    p, num_p = _shard(process_index, process_count)
    ds = grain.MapDataset.source(_source(name, info.train_split, data_dir))[p::num_p]
    if len(ds) == 0:
        raise ValueError(f"Shard {p} of {num_p} of {name!r} is empty.")
    ds = ds.shuffle(seed=seed).repeat().map(functools.partial(_to_image, info))
    # Skipping by index (not by reading) makes resuming cost nothing.
    ds = ds[start_step * batch_size :]
    ds = ds.to_iter_dataset(_read_options(name)).batch(batch_size, drop_remainder=True)
    return iter(ds)


def eval_batches(
    name: str,
    batch_size: int,
    data_dir: str | os.PathLike | None = None,
    *,
    split: str | None = None,
    process_index: int | None = None,
    process_count: int | None = None,
) -> Iterator[EvalBatch]:
    """Returns an iterator of `EvalBatch(images, mask)` over this process's shard of the test split.

    Fixed order, one pass. The final batch is zero-padded to `batch_size` and
    masked; every process yields ceil(ceil(N / process_count) / batch_size)
    batches, padding whole batches if its shard is shorter. `split` overrides
    the test split (e.g. 'train' to evaluate on training data).
    """
    import grain

    info = dataset_info(name)
    if batch_size < 1:
        raise ValueError(f"Need batch_size >= 1, got {batch_size}.")
    p, num_p = _shard(process_index, process_count)
    source = _source(name, split or info.test_split, data_dir)
    num_batches = math.ceil(math.ceil(len(source) / num_p) / batch_size)
    ds = grain.MapDataset.source(source)[p::num_p].map(functools.partial(_to_image, info))
    # A separate generator, so that bad arguments and unprepared data fail here
    # at the call rather than at the first `next`.
    return _padded_batches(iter(ds.to_iter_dataset(_read_options(name))), info, batch_size, num_batches)


def _padded_batches(images, info, batch_size, num_batches):
    for _ in range(num_batches):
        batch = np.zeros((batch_size, *info.image_shape), np.uint8)
        mask = np.zeros((batch_size,), bool)
        for i, image in zip(range(batch_size), images):
            batch[i], mask[i] = image, True
        yield EvalBatch(batch, mask)


def prepare(name: str, data_dir: str | os.PathLike | None = None) -> str:
    """Downloads and prepares `name` as TFDS array_record files; returns the data directory.

    Needs TensorFlow and the network (`pip install -e '.[data]'`). `digits` needs
    nothing and returns at once.
    """
    info = dataset_info(name)
    data_dir = default_data_dir(data_dir)
    if info.tfds_name is None:
        return data_dir
    # TFDS builders need TensorFlow to generate examples, and tfds 4.9.10 imports
    # importlib_resources when building although it declares it only for
    # Python < 3.9.
    missing = [m for m in ("tensorflow", "importlib_resources") if importlib.util.find_spec(m) is None]
    if missing:
        raise RuntimeError(
            f"Preparing {name!r} runs the TFDS builder, which needs {' and '.join(missing)} "
            f"and the network. Install the extra with:  pip install -e '.[data]'"
        )
    import tensorflow_datasets as tfds

    builder = tfds.builder(info.tfds_name, data_dir=data_dir, file_format="array_record")
    builder.download_and_prepare()
    return data_dir


def main(argv: list[str] | None = None) -> int:
    """Command line `python -m zoo.data prepare <name> [--data-dir DIR]`; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m zoo.data", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    prep = commands.add_parser("prepare", help="download and prepare a TFDS dataset as array_record")
    prep.add_argument("name", choices=DATASETS)
    prep.add_argument("--data-dir", default=None, help="TFDS data dir (default $TFDS_DATA_DIR or ~/tensorflow_datasets)")
    args = parser.parse_args(argv)

    if dataset_info(args.name).tfds_name is None:
        print(f"{args.name!r} is bundled with scikit-learn; nothing to prepare.")
        return 0
    try:
        data_dir = prepare(args.name, args.data_dir)
    except Exception as e:  # A clear one-line reason beats a TFDS traceback here.
        print(f"error: could not prepare {args.name!r}: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    print(f"Prepared {args.name!r} in {data_dir}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())


# --- Temporary adapter to the new API (replaced by the zoo/data package). ---
class Dataset:
    def __init__(self, name, data_dir=None, image_size=None, validation_fraction=0.1):
        self.name, self.data_dir, self.validation_fraction = name, data_dir, validation_fraction
        self.info = dataset_info(name)

    def train_batches(self, batch_size, seed, start_step=0, *, process_index=None, process_count=None):
        for b in train_batches(self.name, batch_size, seed, start_step, self.data_dir,
                               process_index=process_index, process_count=process_count):
            yield {'image': b}

    def eval_batches(self, batch_size, split='validation', *, process_index=None, process_count=None):
        split = 'test' if split == 'validation' else split
        for b in eval_batches(self.name, batch_size, self.data_dir, split=split,
                              process_index=process_index, process_count=process_count):
            yield {'image': b.images, 'mask': b.mask}


def open_dataset(name, *, data_dir=None, image_size=None, validation_fraction=0.1):
    return Dataset(name, data_dir, image_size, validation_fraction)
