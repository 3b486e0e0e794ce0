"""Small in-memory data with the data layer's interface, and a helper that runs a task's
jitted steps on a mesh of a chosen number of devices."""

import types

import jax
import numpy as np

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
    """``bar_images``: train batches are a pure function of (seed, step), evaluation batches come
    padded with a mask, as ``zoo.data`` gives them."""

    def __init__(self, num: int = 64, size: int = 4, num_levels: int = 17, seed: int = 0):
        self.images = bar_images(num, size, num_levels, seed)
        self.info = types.SimpleNamespace(name='tiny', image_shape=(size, size, 1), num_levels=num_levels,
                                          num_classes=None)

    def train_batches(self, batch_size, seed, start_step=0):
        step = start_step
        while True:
            rows = np.random.default_rng([seed, step]).choice(len(self.images), batch_size, replace=False)
            yield {'image': self.images[rows]}
            step += 1

    def eval_batches(self, batch_size, split='validation'):
        for start in range(0, len(self.images), batch_size):
            images = self.images[start:start + batch_size]
            mask = np.zeros(batch_size, bool)
            mask[:len(images)] = True
            padded = np.zeros((batch_size, *images.shape[1:]), np.uint8)
            padded[:len(images)] = images
            yield {'image': padded, 'mask': mask}


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
