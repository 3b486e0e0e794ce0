"""What the training tests share: a tiny flow config, datasets that misbehave on purpose,
and exact tree comparisons.  (A helper module, not a test module.)"""

import jax
import numpy as np

from zoo.flows.task import FlowTask
from zoo.train import Config, OptimizerConfig, load_trained

NAN_PIXEL = 200  # digits have 17 levels; a pixel this large marks an injected bad batch


def tiny_config(**changes) -> Config:
    """A NICE of two small couplings on digits: trains 8 steps in a few seconds."""
    base = dict(
        task='nice',
        model=dict(num_couplings=2, hidden=16, depth=1),
        dataset='digits',
        steps=8,
        batch_size=16,
        eval_batch_size=100,
        log_every=2,
        eval_every=0,
        sample_every=0,
        checkpoint_every=4,
        task_kwargs=dict(temperatures=(0.5, 1.0), num_samples=4),
        optimizer=OptimizerConfig(lr=1e-2, warmup_steps=2),
    )
    base.update(changes)
    return Config(**base)


class NanFlowTask(FlowTask):
    """A flow task whose loss is NaN on a batch holding a pixel >= NAN_PIXEL (an injected divergence)."""

    def train_step(self, state, batch, rng):
        state, metrics = super().train_step(state, batch, rng)
        poisoned = jax.numpy.max(batch['image']) >= NAN_PIXEL
        return state, {**metrics, 'loss': jax.numpy.where(poisoned, jax.numpy.nan, metrics['loss'])}


class PoisonedDataset:
    """``base`` whose training batch at each step in ``bad_steps`` holds a NAN_PIXEL
    (the first time that step is read only, if ``once``)."""

    def __init__(self, base, bad_steps, once=True):
        self.base, self.info, self.bad_steps, self.once, self.poisoned = base, base.info, bad_steps, once, set()
        self.splits = base.splits

    def train_batches(self, batch_size, seed, start_step=0, **shard):
        stream = self.base.train_batches(batch_size, seed, start_step=start_step, **shard)
        for step, batch in enumerate(stream, start=start_step):
            if step in self.bad_steps and not (self.once and step in self.poisoned):
                self.poisoned.add(step)
                batch = {**batch, 'image': batch['image'].copy()}
                batch['image'][0, 0, 0, 0] = NAN_PIXEL
            yield batch

    def eval_batches(self, batch_size, split='validation', **shard):
        return self.base.eval_batches(batch_size, split, **shard)


class GlobalSlices:
    """``base`` read as one process would, each process taking its slice of every global batch.

    zoo.data shards examples over processes (process p reads examples p, p+P, ...), so its
    global batches depend on the process count; an exact comparison of P processes with
    one needs the same global batches.
    """

    def __init__(self, base):
        self.base, self.info, self.splits = base, base.info, base.splits

    def _slices(self, batches, size):
        p = jax.process_index()
        for batch in batches:
            yield {k: v[p * size : (p + 1) * size] for k, v in batch.items()}

    def train_batches(self, batch_size, seed, start_step=0):
        n = jax.process_count()
        return self._slices(
            self.base.train_batches(batch_size * n, seed, start_step=start_step, process_index=0, process_count=1),
            batch_size,
        )

    def eval_batches(self, batch_size, split='validation', **shard):
        if shard:  # an explicit shard (the loop's fixed batch): the base's
            return self.base.eval_batches(batch_size, split, **shard)
        n = jax.process_count()
        return self._slices(self.base.eval_batches(batch_size * n, split, process_index=0, process_count=1), batch_size)


def state_of(workdir):
    return load_trained(workdir).state


def assert_trees_equal(a, b):
    jax.tree.map(lambda x, y: np.testing.assert_array_equal(np.asarray(x), np.asarray(y)), a, b)


def assert_trees_close(a, b, **tolerance):
    jax.tree.map(lambda x, y: np.testing.assert_allclose(np.asarray(x), np.asarray(y), **tolerance), a, b)
