"""Mesh helpers: device prefetching keeps order and loses no batch."""

import numpy as np

from zoo.train import mesh as mesh_lib


def test_prefetch_to_device_yields_every_batch_in_order_sharded():
    mesh = mesh_lib.make_mesh()
    batches = [{'image': np.full((8, 2, 2, 1), i, np.uint8), 'label': np.full((8,), i, np.int32)} for i in range(5)]
    out = list(mesh_lib.prefetch_to_device(mesh, iter(batches), size=2))
    assert len(out) == 5
    for i, batch in enumerate(out):
        for key in ('image', 'label'):
            np.testing.assert_array_equal(np.asarray(batch[key]), batches[i][key])
            assert batch[key].sharding.spec == mesh_lib.batch_sharding(mesh).spec
