"""grain streams over a dataset's splits: endless shuffled training batches and one
fixed-order, padded and masked pass for evaluation.

* Sharding: process `p` of `P` reads examples `p, p + P, p + 2P, ...` of a split, so
    hosts see disjoint examples; `batch_size` is per process.
* Training: the shard is shuffled with `seed`, reshuffled every epoch, repeated forever
    and cut into full batches (batches may straddle epochs). Batch `k` is a pure function
    of (dataset, seed, batch size, shard), so `start_step=k` resumes exactly where an
    uninterrupted stream would be after `k` batches.
* Evaluation: the shard in its stored order; the last batch is padded with zero
    examples and `mask` marks the real ones; every process yields the same number of
    batches, so jitted data-parallel evaluation sees one shape and no host waits.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Iterator, Mapping

import numpy as np

from zoo.data.sources import SPLITS, DatasetInfo, Split, builtin_info, check_validation_fraction, open_splits


@dataclasses.dataclass(frozen=True, eq=False)
class Dataset:
    """An opened dataset: its `info` and batch streams over its train / validation / test splits.

    Make one with `open_dataset`. Batches are dicts of numpy arrays: 'image' uint8
    (B, H, W, C) (or 'point' float32 (B, D) for points), 'label' int32 (B,) when
    `info.num_classes` is not None, 'index' int32 (B,) (each example's position in its
    split), and for evaluation 'mask' bool (B,). `process_index` / `process_count` default to JAX's.
    """

    info: DatasetInfo
    splits: Mapping[str, Split]

    def num_examples(self, split: str, *, process_index: int | None = None, process_count: int | None = None) -> int:
        """Returns the number of examples of `split` in this process's shard."""
        p, num_p = _shard(process_index, process_count)
        return len(range(p, len(self._split(split)), num_p))

    def train_batches(
        self,
        batch_size: int,
        seed: int,
        start_step: int = 0,
        *,
        process_index: int | None = None,
        process_count: int | None = None,
    ) -> Iterator[dict]:
        """Returns an endless iterator of training batches from this process's shard of 'train'.

        Shuffled with `seed` and reshuffled every epoch. Batch k depends only on
        (dataset, seed, batch_size, shard), so `start_step=k` yields what a fresh
        stream yields after k `next` calls, without reading the skipped examples.
        """
        import grain

        _check_batch_size(batch_size)
        if start_step < 0:
            raise ValueError(f'start_step must be >= 0, got {start_step}.')
        split = self._split('train')
        p, num_p = _shard(process_index, process_count)
        ds = grain.MapDataset.source(np.arange(len(split)))[p::num_p]
        if len(ds) == 0:
            raise ValueError(f'Shard {p} of {num_p} of {self.info.name!r} (train, {len(split)} examples) is empty.')
        # Shuffling positions, not examples: reading happens only for examples used.
        # Skipping by index (not by reading) makes resuming cost nothing.
        ds = ds.shuffle(seed=seed).repeat()[start_step * batch_size :]
        if split.in_memory:
            # In-memory arrays are read a batch at a time (one fancy index): reading 64 small
            # images one by one costs a few ms a step, and on a busy CPU that is the step's time.
            ds = ds.batch(batch_size, drop_remainder=True).map(split.read_at)
            return iter(ds.to_iter_dataset(_read_options(split)))
        ds = ds.map(split.read_at).to_iter_dataset(_read_options(split)).batch(batch_size, drop_remainder=True)
        return iter(ds)

    def eval_batches(
        self,
        batch_size: int,
        split: str = 'validation',
        *,
        process_index: int | None = None,
        process_count: int | None = None,
    ) -> Iterator[dict]:
        """Returns one pass over this process's shard of `split` in fixed order, in batches
        with a 'mask'.

        The last batch is zero-padded to `batch_size` (mask False); every process yields
        ceil(ceil(N / process_count) / batch_size) batches, padding whole batches if its
        shard is shorter.
        """
        import grain

        _check_batch_size(batch_size)
        examples = self._split(split)
        if len(examples) == 0:
            raise ValueError(self._empty_message(split))
        p, num_p = _shard(process_index, process_count)
        num_batches = math.ceil(math.ceil(len(examples) / num_p) / batch_size)
        ds = grain.MapDataset.source(np.arange(len(examples)))[p::num_p].map(examples.read_at)
        # A separate generator, so that bad arguments fail here at the call rather
        # than at the first `next`.
        return _padded_batches(iter(ds.to_iter_dataset(_read_options(examples))), self._zeros(batch_size), num_batches)

    def _split(self, split: str) -> Split:
        if split not in SPLITS:
            raise ValueError(f'Unknown split {split!r}; use one of {", ".join(SPLITS)}.')
        return self.splits[split]

    def _empty_message(self, split: str) -> str:
        if split == 'validation' and self.info.validation_fraction == 0:
            return (
                f'{self.info.name!r} has no validation split: validation_fraction is 0. '
                f"Open it with validation_fraction > 0, or evaluate on 'test'."
            )
        return (
            f'The {split} split of {self.info.name!r} is empty (validation_fraction={self.info.validation_fraction}).'
        )

    def _zeros(self, batch_size: int) -> dict:
        """An all-padding evaluation batch."""
        if self.info.point_dim is None:
            batch = {'image': np.zeros((batch_size, *self.info.image_shape), np.uint8)}
        else:
            batch = {'point': np.zeros((batch_size, self.info.point_dim), np.float32)}
        if self.info.num_classes is not None:
            batch['label'] = np.zeros((batch_size,), np.int32)
        batch['index'] = np.zeros((batch_size,), np.int32)
        batch['mask'] = np.zeros((batch_size,), bool)
        return batch

    def __repr__(self) -> str:
        sizes = ', '.join(f'{s} {len(self.splits[s])}' for s in SPLITS)
        shape = f'images {self.info.image_shape}' if self.info.point_dim is None else f'points ({self.info.point_dim},)'
        return f'Dataset({self.info.name!r}: {sizes}; {shape})'


def open_dataset(
    name: str,
    *,
    data_dir: str | os.PathLike | None = None,
    image_size: int | None = None,
    validation_fraction: float = 0.1,
) -> Dataset:
    """Opens dataset `name`: 'digits', 'mnist', 'fashion_mnist', 'cifar10', 'celeb_a',
    'npz:PATH', 'folder:PATH' or 'toy2d:NAME' (see `zoo.data.sources`).

    `data_dir` is the TFDS data directory; `image_size` centre-crops and resizes
    `celeb_a` and `folder:` images to image_size x image_size; `validation_fraction`
    of the stored train split (fixed, seed-independent choice) becomes 'validation'.
    Raises ValueError for an unknown name or bad data, `DatasetNotPreparedError` for
    an unprepared TFDS dataset.
    """
    info, splits = open_splits(name, data_dir=data_dir, image_size=image_size, validation_fraction=validation_fraction)
    return Dataset(info, splits)


def dataset_info(
    name: str,
    *,
    data_dir: str | os.PathLike | None = None,
    image_size: int | None = None,
    validation_fraction: float = 0.1,
) -> DatasetInfo:
    """Returns `open_dataset(...).info`; for built-in names without reading any data
    (so it works before a TFDS dataset is prepared)."""
    if name.startswith(('npz:', 'folder:', 'toy2d:')):
        return open_dataset(
            name, data_dir=data_dir, image_size=image_size, validation_fraction=validation_fraction
        ).info
    check_validation_fraction(validation_fraction)
    return dataclasses.replace(builtin_info(name, image_size), validation_fraction=validation_fraction)


def _check_batch_size(batch_size: int) -> None:
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f'batch_size must be an integer >= 1, got {batch_size!r}.')


def _shard(process_index: int | None, process_count: int | None) -> tuple[int, int]:
    """Returns (process index, process count), JAX's where not given."""
    if process_index is None or process_count is None:
        import jax

        process_index = jax.process_index() if process_index is None else process_index
        process_count = jax.process_count() if process_count is None else process_count
    if not 0 <= process_index < process_count:
        raise ValueError(f'process_index {process_index} not in [0, {process_count}).')
    return process_index, process_count


def _read_options(split: Split):
    import grain

    # In-memory arrays are faster without reader threads (GIL contention);
    # TFDS reads and decodes, which threads overlap.
    if split.in_memory:
        return grain.ReadOptions(num_threads=0, prefetch_buffer_size=0)
    return grain.ReadOptions(num_threads=8, prefetch_buffer_size=256)


def _padded_batches(examples: Iterator[dict], zeros: dict, num_batches: int) -> Iterator[dict]:
    """Yields `num_batches` copies of `zeros` filled with the next examples, mask True where filled."""
    batch_size = len(zeros['mask'])
    for _ in range(num_batches):
        batch = {key: value.copy() for key, value in zeros.items()}
        for i, example in zip(range(batch_size), examples):
            for key, value in example.items():
                batch[key][i] = value
            batch['mask'][i] = True
        yield batch
