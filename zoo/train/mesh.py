"""One device mesh with a ``data`` axis, and moving host data onto it.

Data parallelism in today's JAX: every array is a global ``jax.Array`` laid out
over a mesh.  Batches are split along ``data`` (each device holds
``global_batch / device_count`` examples); parameters and optimizer state are
replicated.  The same code runs on one CPU, eight GPUs or several hosts: on
several hosts each process feeds only its own slice of the batch, and
``jax.make_array_from_process_local_data`` stitches the slices into one array.
"""

import collections

import jax
import numpy as np
from jax.sharding import AxisType, Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

DATA_AXIS = 'data'


def make_mesh(devices=None) -> Mesh:
    """A 1-D mesh over ``devices`` (default: every device of every process).

    The axis is ``Auto`` so that XLA's partitioner propagates the batch
    sharding through model code that knows nothing about meshes.
    """
    devices = jax.devices() if devices is None else list(devices)
    return jax.make_mesh((len(devices),), (DATA_AXIS,), axis_types=(AxisType.Auto,), devices=devices)


def batch_sharding(mesh: Mesh) -> NamedSharding:
    """Leading (batch) dimension split over ``data``, the rest whole."""
    return NamedSharding(mesh, P(DATA_AXIS))


def replicated(mesh: Mesh) -> NamedSharding:
    """Every device holds the whole array (parameters, optimizer state)."""
    return NamedSharding(mesh, P())


def local_batch_size(global_batch_size: int, mesh: Mesh) -> int:
    """Examples this process must load per step; checks that the batch divides evenly."""
    if global_batch_size % mesh.size:
        raise ValueError(f'batch size {global_batch_size} is not divisible by the {mesh.size} devices of the mesh')
    return global_batch_size // jax.process_count()


def shard_batch(mesh: Mesh, local_batch):
    """Host-local batch (a pytree of numpy arrays) -> global arrays sharded over ``data``.

    Each process passes its own ``global_batch / process_count`` examples.
    """
    sharding = batch_sharding(mesh)
    return jax.tree.map(lambda x: jax.make_array_from_process_local_data(sharding, np.asarray(x)), local_batch)


def prefetch_to_device(mesh: Mesh, batches, size: int = 2):
    """Yield ``shard_batch`` of each host batch, keeping ``size`` batches already on the devices.

    Transfers are asynchronous, so the next batches copy while the current step runs
    instead of after it.
    """
    queue = collections.deque()
    for batch in batches:
        queue.append(shard_batch(mesh, batch))
        if len(queue) > size:
            yield queue.popleft()
    yield from queue


def replicate(mesh: Mesh, tree):
    """Host values (the same on every process) -> arrays replicated over the mesh."""
    sharding = replicated(mesh)

    def put(x):
        x = np.asarray(x)
        return jax.make_array_from_callback(x.shape, sharding, lambda index: x[index])

    return jax.tree.map(put, tree)


def to_host(tree):
    """Replicated global arrays -> numpy, using this process's own copy (no communication)."""
    return jax.tree.map(lambda x: np.asarray(x.addressable_data(0)) if isinstance(x, jax.Array) else x, tree)
