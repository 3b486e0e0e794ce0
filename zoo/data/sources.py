"""Where examples come from, and how the train / validation / test splits are cut.

A source gives two stored splits, `train` and `test`, as random-access `Split`s:
`split[i]` is `{'image': uint8 (H, W, C), 'label': int32, 'index': int32}` ('label' only
for labelled datasets; 'point' float32 (D,) instead of 'image' for points; 'index' is i,
the example's position in its split). `open_splits` then carves `validation` out of the stored train split.

* `digits`: scikit-learn's bundled 8x8 digits, 1797 images with values 0..16 (17 gray
    levels) and their labels, no network needed. A fixed permutation
    (`np.random.default_rng(0)`) puts 1497 images in the stored train split and 300 in
    test.
* `mnist`, `fashion_mnist`, `cifar10` (10 classes each) and `celeb_a` (unlabelled here,
    centre 148x148 crop resized to 64x64 or to `image_size`) are read with
    `tfds.data_source` from array_record files prepared once by `prepare` (TensorFlow
    and the network); reading needs neither.
* `npz:PATH`: arrays `x_train`, `x_test` (uint8, NHWC, or NHW for gray) and optionally
    `y_train`, `y_test` (integer labels).
* `folder:PATH`: PNG / JPEG images (`zoo.data.image_folder`); without train/ and test/
    subfolders a fixed 10% of the images is the test split.
* `toy2d:NAME`: a fixed draw of a 2-D toy density (`zoo.data.toy2d`), 10000 train and
    2000 test points, float32 (2,) under the key 'point'.

Validation carve-out: a permutation of the stored train indices with a fixed seed
(never the run's seed, so every run of a dataset validates on the same images); the
last round(validation_fraction * n) of it are `validation`, the rest `train`. Both keep
the stored order. A larger fraction holds out a superset of a smaller one's images.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import math
import os
import zipfile
from collections.abc import Callable
from typing import Any

import numpy as np

from zoo.data.image_folder import centre_crop_resize, load_folder

SPLITS = ('train', 'validation', 'test')

_DIGITS_SEED = 0
_DIGITS_NUM_TEST = 300
# Fixed seeds of the carve-outs, independent of any run's seed.
_VALIDATION_SEED = 20240611
_FOLDER_TEST_SEED = 20240612
_FOLDER_TEST_FRACTION = 0.1

# celeb_a images are 218x178; the centred 148x148 crop resized to 64x64 is the
# preprocessing of the RealNVP and Glow CelebA experiments.
_CELEBA_CROP = 148
_CELEBA_SIZE = 64


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """Static facts about a dataset of images or of points.

    Attributes:
        name: the name it was opened with (`digits`, `mnist`, `npz:PATH`, `toy2d:two_moons`, ...).
        image_shape: (H, W, C) of the images the pipelines yield; None for points.
        num_levels: number of gray levels per channel (pixels are 0..num_levels-1);
            bits/dim use log2(num_levels). None for points.
        num_classes: number of classes (labels 0..num_classes-1), or None if unlabelled.
        class_names: label k's name (class folders), or None.
        validation_fraction: the share of the stored train split held out as `validation`.
        tfds_name: TFDS builder name, or None for datasets not read through TFDS.
        point_dim: D of float32 (D,) points (batch key 'point'); None for images.
    """

    name: str
    image_shape: tuple[int, int, int] | None = None
    num_levels: int | None = None
    num_classes: int | None = None
    class_names: tuple[str, ...] | None = None
    validation_fraction: float = 0.1
    tfds_name: str | None = None
    point_dim: int | None = None

    @property
    def key(self) -> str:
        """The batch key of the examples: 'point' for points, 'image' for images."""
        return 'image' if self.point_dim is None else 'point'

    @property
    def num_dims(self) -> int:
        """Number of scalar dimensions per example, H * W * C or D."""
        return self.point_dim if self.point_dim is not None else math.prod(self.image_shape)


_BUILTIN = {
    info.name: info
    for info in [
        DatasetInfo('digits', (8, 8, 1), 17, num_classes=10),
        DatasetInfo('mnist', (28, 28, 1), 256, num_classes=10, tfds_name='mnist'),
        DatasetInfo('fashion_mnist', (28, 28, 1), 256, num_classes=10, tfds_name='fashion_mnist'),
        DatasetInfo('cifar10', (32, 32, 3), 256, num_classes=10, tfds_name='cifar10'),
        DatasetInfo('celeb_a', (_CELEBA_SIZE, _CELEBA_SIZE, 3), 256, tfds_name='celeb_a'),
    ]
}

DATASETS = tuple(_BUILTIN)


class DatasetNotPreparedError(FileNotFoundError):
    """A TFDS dataset has no prepared array_record files in the data directory."""


@dataclasses.dataclass(frozen=True, eq=False)
class Split:
    """One split as a random-access sequence: `split[i] = {**read(indices[i]), 'index': i}`.

    Attributes:
        read: stored index (or an array of them) -> example dict ({'image' or 'point', 'label'?}).
        indices: the stored indices of this split, in the order evaluation reads them.
        in_memory: whether `read` only indexes arrays (pipelines then skip reader threads).
    """

    read: Callable[[int], dict]
    indices: np.ndarray
    in_memory: bool

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> dict:
        return self.read_at(i)

    def read_at(self, positions) -> dict:
        """The examples at `positions` (an int or an int array) of this split, with their
        'index': the position itself, which stays an example's name under any shuffling."""
        positions = np.asarray(positions)
        return {**self.read(self.indices[positions]), 'index': positions.astype(np.int32)}

    def subset(self, positions: np.ndarray) -> Split:
        """Returns the split of examples `positions` (indices into this split)."""
        return dataclasses.replace(self, indices=self.indices[positions])


@dataclasses.dataclass(frozen=True, eq=False)
class ArrayExamples:
    """Reads example j from in-memory arrays: images uint8 (N, H, W, C) (or points float32
    (N, D) with key 'point'), labels int32 (N,) or None."""

    images: np.ndarray
    labels: np.ndarray | None
    key: str = 'image'

    def __call__(self, j) -> dict:
        """Example ``j`` as a dict: the array under its key, and ``label`` when there are labels."""
        if self.labels is None:
            return {self.key: self.images[j]}
        return {self.key: self.images[j], 'label': self.labels[j]}


@dataclasses.dataclass(frozen=True, eq=False)
class TfdsExamples:
    """Reads example j of a TFDS data source as {'image': uint8 (H, W, C), 'label'?: int32}.

    With `resize_to`, the image's centred `crop` square is resized to resize_to x resize_to.
    """

    source: Any
    labelled: bool
    resize_to: int | None = None
    crop: int | None = None

    def __call__(self, j) -> dict:
        """Example ``j`` as a dict: uint8 ``image`` (centre-cropped and resized if asked) and ``label`` when
        labelled.
        """
        example = self.source[int(j)]
        image = np.asarray(example['image'], dtype=np.uint8)
        if self.resize_to is not None:
            image = centre_crop_resize(image, self.resize_to, self.crop)
        if not self.labelled:
            return {'image': image}
        return {'image': image, 'label': np.int32(example['label'])}


def carve(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Splits range(n) into (kept, held): the last round(fraction * n) entries of a fixed
    permutation (`np.random.default_rng(seed)`) are held out. Both come back sorted."""
    order = np.random.default_rng(seed).permutation(n)
    num_kept = n - round(fraction * n)
    return np.sort(order[:num_kept]), np.sort(order[num_kept:])


def open_splits(
    name: str,
    *,
    data_dir: str | os.PathLike | None = None,
    image_size: int | None = None,
    validation_fraction: float = 0.1,
) -> tuple[DatasetInfo, dict[str, Split]]:
    """Returns the `DatasetInfo` of `name` and its 'train', 'validation' and 'test' `Split`s."""
    check_validation_fraction(validation_fraction)
    if image_size is not None and image_size < 1:
        raise ValueError(f'image_size must be None or >= 1, got {image_size}.')
    info, stored = _stored_splits(name, os.fspath(data_dir) if data_dir else None, image_size)
    kept, held = carve(len(stored['train']), validation_fraction, _VALIDATION_SEED)
    if len(kept) == 0:
        raise ValueError(f'validation_fraction {validation_fraction} leaves no training examples in {name!r}.')
    splits = {'train': stored['train'].subset(kept), 'validation': stored['train'].subset(held), 'test': stored['test']}
    return dataclasses.replace(info, validation_fraction=validation_fraction), splits


def check_validation_fraction(validation_fraction: float) -> None:
    """Raises ValueError unless 0 <= validation_fraction < 1."""
    if not 0 <= validation_fraction < 1:
        raise ValueError(f'validation_fraction must be in [0, 1), got {validation_fraction}.')


def builtin_info(name: str, image_size: int | None = None) -> DatasetInfo:
    """Returns the `DatasetInfo` of a built-in dataset without reading any data.

    `image_size` resizes `celeb_a`; for the others it must be None or their own size.
    """
    if name not in _BUILTIN:
        raise ValueError(
            f"Unknown dataset {name!r}; known datasets: {', '.join(DATASETS)}, or 'npz:PATH' "
            f"(an .npz file with x_train, x_test and optional y_train, y_test) or 'folder:PATH' "
            f'(a folder of PNG / JPEG images, one subfolder per class if labelled).'
        )
    info = _BUILTIN[name]
    if image_size is None or image_size == info.image_shape[0]:
        return info
    if name != 'celeb_a':
        raise ValueError(
            f'image_size={image_size} is supported for celeb_a and folder: datasets only; '
            f'{name!r} images are {info.image_shape[0]}x{info.image_shape[1]}.'
        )
    return dataclasses.replace(info, image_shape=(image_size, image_size, 3))


def _stored_splits(name: str, data_dir: str | None, image_size: int | None):
    """Returns (info, {'train': Split, 'test': Split}) as the source stores them."""
    if name.startswith('npz:'):
        return _npz_splits(name, image_size)
    if name.startswith('folder:'):
        return _folder_splits(name, image_size)
    if name.startswith('toy2d:'):
        return _toy2d_splits(name, image_size)
    info = builtin_info(name, image_size)
    if info.tfds_name is None:
        return info, _digits_stored_splits()
    return info, _tfds_splits(info, data_dir)


# ------------------------------------------------------------------- digits


@functools.cache
def _digits_arrays() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Returns sklearn's (images uint8 (1797, 8, 8, 1), labels int32, fixed permutation)."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = digits.images.astype(np.uint8)[..., None]
    order = np.random.default_rng(_DIGITS_SEED).permutation(len(images))
    return images, digits.target.astype(np.int32), order


def _digits_stored_splits() -> dict[str, Split]:
    images, labels, order = _digits_arrays()
    read = ArrayExamples(images, labels)
    num_train = len(images) - _DIGITS_NUM_TEST
    return {'train': Split(read, order[:num_train], True), 'test': Split(read, order[num_train:], True)}


def digits_images(split: str) -> np.ndarray:
    """Returns a stored `digits` split ('train': 1497, 'test': 300), before the validation
    carve-out, as uint8 (N, 8, 8, 1) with values 0..16."""
    if split not in ('train', 'test'):
        raise ValueError(f"Unknown digits split {split!r}; use 'train' or 'test'.")
    images, _, _ = _digits_arrays()
    # Fancy indexing copies, so callers cannot corrupt the cached arrays.
    return images[_digits_stored_splits()[split].indices]


# --------------------------------------------------------------------- TFDS


def default_data_dir(data_dir: str | os.PathLike | None = None) -> str:
    """Returns `data_dir`, else $TFDS_DATA_DIR, else ~/tensorflow_datasets."""
    if data_dir:
        return os.fspath(data_dir)
    return os.environ.get('TFDS_DATA_DIR') or os.path.expanduser('~/tensorflow_datasets')


def _not_prepared_message(name: str, data_dir: str) -> str:
    return (
        f'Dataset {name!r} is not prepared (array_record format) in {data_dir}.\n'
        f'Prepare it once with:\n'
        f'    make data DATASET={name} DATA_DIR={data_dir}\n'
        f'(runs `python -m zoo.data prepare {name} --data-dir {data_dir}`; building needs '
        f"TensorFlow and the network: pip install -e '.[data]').\n"
        f"The embedded dataset 'digits' needs no preparation."
    )


def _tfds_splits(info: DatasetInfo, data_dir: str | None) -> dict[str, Split]:
    """Returns the stored train and test splits of a prepared TFDS dataset."""
    import tensorflow_datasets as tfds

    data_dir = default_data_dir(data_dir)
    resize = dict(resize_to=info.image_shape[0], crop=_CELEBA_CROP) if info.name == 'celeb_a' else {}
    splits = {}
    for split in ('train', 'test'):
        try:
            # download=False: building needs TensorFlow, which the readers must not need.
            source = tfds.data_source(info.tfds_name, split=split, data_dir=data_dir, download=False)
        except (NotImplementedError, FileNotFoundError, AssertionError) as e:
            # tfds raises NotImplementedError ("Random access data source for file
            # format TFRECORD ...") when no prepared version exists.
            raise DatasetNotPreparedError(_not_prepared_message(info.name, data_dir)) from e
        read = TfdsExamples(source, labelled=info.num_classes is not None, **resize)
        splits[split] = Split(read, np.arange(len(source)), in_memory=False)
    return splits


def prepare(name: str, data_dir: str | os.PathLike | None = None) -> str:
    """Downloads and prepares `name` as TFDS array_record files; returns the data directory.

    Needs TensorFlow and the network (`pip install -e '.[data]'`). `digits` needs
    nothing and returns at once.
    """
    info = builtin_info(name)
    data_dir = default_data_dir(data_dir)
    if info.tfds_name is None:
        return data_dir
    # TFDS builders need TensorFlow to generate examples, and tfds 4.9.10 imports
    # importlib_resources when building although it declares it only for
    # Python < 3.9.
    missing = [m for m in ('tensorflow', 'importlib_resources') if importlib.util.find_spec(m) is None]
    if missing:
        raise RuntimeError(
            f'Preparing {name!r} runs the TFDS builder, which needs {" and ".join(missing)} '
            f"and the network. Install the extra with:  pip install -e '.[data]'"
        )
    import tensorflow_datasets as tfds

    builder = tfds.builder(info.tfds_name, data_dir=data_dir, file_format='array_record')
    builder.download_and_prepare()
    return data_dir


# ---------------------------------------------------------------------- npz


def _npz_splits(name: str, image_size: int | None) -> tuple[DatasetInfo, dict[str, Split]]:
    """Returns the info and stored splits of `npz:PATH` (arrays checked by `_load_npz`)."""
    path = os.path.abspath(os.path.expanduser(name[len('npz:') :]))
    arrays = _load_npz(path)
    images = {s: _npz_images(path, f'x_{s}', arrays[f'x_{s}']) for s in ('train', 'test')}
    if images['train'].shape[1:] != images['test'].shape[1:]:
        raise ValueError(
            f'npz dataset {path}: x_train images are {images["train"].shape[1:]} but x_test images are '
            f'{images["test"].shape[1:]} (H, W, C); both splits need one image shape.'
        )
    labels = _npz_labels(path, arrays, {s: len(x) for s, x in images.items()})
    shape = images['train'].shape[1:]
    if image_size is not None and image_size != shape[0]:
        raise ValueError(
            f'image_size={image_size} is not supported for npz: datasets; {path} '
            f'holds {shape[0]}x{shape[1]} images (resize them when writing the file).'
        )
    num_classes = None if labels is None else int(max(y.max(initial=-1) for y in labels.values())) + 1
    info = DatasetInfo(name, shape, 256, num_classes=num_classes)
    splits = {
        s: Split(
            ArrayExamples(images[s], None if labels is None else labels[s]), np.arange(len(images[s])), in_memory=True
        )
        for s in ('train', 'test')
    }
    return info, splits


def _load_npz(path: str) -> dict[str, np.ndarray]:
    """Returns the arrays of the .npz file `path`; needs x_train and x_test."""
    if not os.path.isfile(path):
        raise ValueError(f'npz dataset {path}: no such file.')
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError, zipfile.BadZipFile) as e:
        raise ValueError(f'npz dataset {path}: not a readable .npz archive ({type(e).__name__}: {e}).') from e
    if not isinstance(archive, np.lib.npyio.NpzFile):  # an .npy file loads as one array
        raise ValueError(
            f'npz dataset {path}: not a readable .npz archive (it holds a single '
            f'{type(archive).__name__}); write it with np.savez(path, x_train=..., x_test=...).'
        )
    with archive:
        arrays = {key: archive[key] for key in archive.files}
    missing = [key for key in ('x_train', 'x_test') if key not in arrays]
    if missing:
        raise ValueError(
            f'npz dataset {path}: missing {" and ".join(missing)}; found arrays: '
            f'{", ".join(sorted(arrays)) or "none"}. Needs x_train and x_test (uint8, NHWC).'
        )
    return arrays


def _npz_images(path: str, key: str, x: np.ndarray) -> np.ndarray:
    """Returns `x` as uint8 (N, H, W, C), adding the channel axis to gray (N, H, W) arrays."""
    if x.dtype != np.uint8:
        raise ValueError(f'npz dataset {path}: {key} has dtype {x.dtype}; images must be uint8 with values 0..255.')
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4:
        raise ValueError(
            f'npz dataset {path}: {key} has shape {x.shape}; images must be (N, H, W, C), or (N, H, W) for gray images.'
        )
    return x


def _npz_labels(path: str, arrays: dict, sizes: dict[str, int]) -> dict[str, np.ndarray] | None:
    """Returns {'train', 'test'} int32 labels from y_train / y_test, or None if neither is given."""
    given = [s for s in ('train', 'test') if f'y_{s}' in arrays]
    if not given:
        return None
    if len(given) == 1:
        other = 'test' if given == ['train'] else 'train'
        raise ValueError(
            f'npz dataset {path}: y_{given[0]} is given but y_{other} is not; '
            f'give labels for both splits or for neither.'
        )
    labels = {}
    for s in ('train', 'test'):
        y = arrays[f'y_{s}']
        if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
            raise ValueError(
                f'npz dataset {path}: y_{s} has shape {y.shape} and dtype {y.dtype}; '
                f'labels must be a 1-D integer array.'
            )
        if len(y) != sizes[s]:
            raise ValueError(f'npz dataset {path}: y_{s} has {len(y)} labels but x_{s} has {sizes[s]} images.')
        if len(y) and y.min() < 0:
            raise ValueError(f'npz dataset {path}: y_{s} has negative labels; labels must be 0..K-1.')
        labels[s] = y.astype(np.int32)
    return labels


# ------------------------------------------------------------------- folder


def _folder_splits(name: str, image_size: int | None) -> tuple[DatasetInfo, dict[str, Split]]:
    """Returns the info and stored splits of `folder:PATH`; without train/ and test/
    subfolders, test is a fixed 10% of the images."""
    folder = load_folder(name[len('folder:') :], image_size)
    if 'all' in folder.splits:
        read = ArrayExamples(*folder.splits['all'])
        kept, held = carve(len(read.images), _FOLDER_TEST_FRACTION, _FOLDER_TEST_SEED)
        splits = {'train': Split(read, kept, True), 'test': Split(read, held, True)}
    else:
        splits = {
            s: Split(ArrayExamples(*folder.splits[s]), np.arange(len(folder.splits[s][0])), True)
            for s in ('train', 'test')
        }
    # One decode of all files gives train/ and test/ one image shape.
    shape = splits['train'].read.images.shape[1:]
    names = folder.class_names
    info = DatasetInfo(name, shape, 256, num_classes=None if names is None else len(names), class_names=names)
    return info, splits


# -------------------------------------------------------------------- toy2d

_TOY_NUM_TRAIN, _TOY_NUM_TEST = 10_000, 2_000
_TOY_SEEDS = {'train': 20240613, 'test': 20240614}


def _toy2d_splits(name: str, image_size: int | None) -> tuple[DatasetInfo, dict[str, Split]]:
    """Returns the info and stored splits of `toy2d:NAME`: fixed draws of the density."""
    from zoo.data import toy2d

    density = name[len('toy2d:') :]
    if density not in toy2d.TOY_DENSITIES:
        raise ValueError(
            f'Unknown toy density in {name!r}; known: {", ".join("toy2d:" + d for d in toy2d.TOY_DENSITIES)}.'
        )
    if image_size is not None:
        raise ValueError(f'image_size={image_size} is for images; {name!r} holds 2-D points.')
    sizes = {'train': _TOY_NUM_TRAIN, 'test': _TOY_NUM_TEST}
    splits = {
        s: Split(
            ArrayExamples(np.asarray(toy2d.sample(density, _TOY_SEEDS[s], n)), None, key='point'),
            np.arange(n),
            in_memory=True,
        )
        for s, n in sizes.items()
    }
    return DatasetInfo(name, point_dim=2), splits
