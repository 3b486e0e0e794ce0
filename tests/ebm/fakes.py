"""Small in-memory data as a ``zoo.data`` dataset, and a helper that runs a task's jitted steps
on a mesh of a chosen number of devices."""

import jax
import numpy as np

from zoo.data import DatasetInfo
from zoo.data.pipeline import Dataset
from zoo.data.sources import ArrayExamples, Split
from zoo.train import mesh as mesh_lib
from zoo.train.step import make_init, make_train_step


def bar_images(num: int, size: int = 4, num_levels: int = 17, seed: int = 0) -> np.ndarray:
    """uint8 (num, size, size, 1) images: one bright random column on a dark background, plus
    one level of noise; far from uniform noise, so an energy can learn to tell them apart."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 2, (num, size, size, 1))
    columns = rng.integers(0, size, num)
    images[np.arange(num), :, columns, 0] = num_levels - 1 - rng.integers(0, 2, (num, size))
    return images.astype(np.uint8)


class TinyImages:
    """``bar_images`` as a ``zoo.data.Dataset`` (``.dataset``, every split the same images), whose
    train batches are a pure function of (seed, step) and carry each image's ``index``."""

    def __init__(self, num: int = 64, size: int = 4, num_levels: int = 17, seed: int = 0):
        self.images = bar_images(num, size, num_levels, seed)
        self.info = DatasetInfo('tiny', image_shape=(size, size, 1), num_levels=num_levels)
        split = Split(ArrayExamples(self.images, None), np.arange(num), in_memory=True)
        self.dataset = Dataset(self.info, {'train': split, 'validation': split, 'test': split})

    def batch(self, rows) -> dict:
        """The images at ``rows`` with their indices."""
        return {'image': self.images[rows], 'index': np.asarray(rows, np.int32)}

    def train_batches(self, batch_size, seed=0):
        """The stream the loop trains on with this seed (one process)."""
        return self.dataset.train_batches(batch_size, seed, process_index=0, process_count=1)


def run_steps(task, batches, num_devices: int):
    """init on the first batch, then one jitted step per batch on ``num_devices`` devices.

    Returns (final state on the host, [metrics per step on the host]).
    """
    mesh = mesh_lib.make_mesh(jax.devices()[:num_devices])
    rng = mesh_lib.replicate(mesh, jax.random.PRNGKey(0))
    sharded = [mesh_lib.shard_batch(mesh, b) for b in batches]
    state = make_init(task, mesh)(rng, sharded[0])
    step = make_train_step(task, mesh)
    metrics = []
    for batch in sharded:
        state, m = step(state, batch)
        metrics.append(mesh_lib.to_host(m))
    return mesh_lib.to_host(state), metrics


def saved_state(workdir, step=None) -> dict:
    """The TrainState fields of a checkpoint as a dict, read with orbax directly (``load_trained``
    would open the config's dataset, and the tests' datasets exist only in memory)."""
    import orbax.checkpoint as ocp

    manager = ocp.CheckpointManager(workdir / 'checkpoints', item_handlers={'state': ocp.StandardCheckpointHandler()})
    try:
        step = manager.latest_step() if step is None else step
        return manager.restore(step, args=ocp.args.Composite(state=ocp.args.StandardRestore()))['state']
    finally:
        manager.close()
