"""Fixtures shared by the zoo.data tests: a genuine, tiny array_record `mnist`."""

import io

import numpy as np
import pytest

from tests.data.helpers import NUM_REAL_TEST, NUM_REAL_TRAIN, REAL_TEST_FIRST_ID

# mock_data replaces the reader and the example parser, so it cannot show that real
# prepared files are readable without TensorFlow. This fixture builds a genuine
# array_record `mnist` (dataset_info.json, shards, PNG-encoded images) with the real
# TFDS builder. Only the PNG encoder is swapped for PIL's: it is the one
# TensorFlow-only step of building such a dataset. Reading is untouched.


@pytest.fixture(scope='session')
def real_mnist_dir(tmp_path_factory):
    """A TFDS data dir with `mnist`: train images 0..9, test images 100..103, where every
    pixel of image i equals i and its label is i % 10."""
    import tensorflow_datasets as tfds
    from PIL import Image
    from tensorflow_datasets.image_classification import mnist as mnist_lib

    class TinyMnist(mnist_lib.MNIST, skip_registration=True):
        name = 'mnist'  # written where tfds.data_source("mnist") looks

        def _split_generators(self, dl_manager):
            return {
                'train': self._examples(0, NUM_REAL_TRAIN),
                'test': self._examples(REAL_TEST_FIRST_ID, NUM_REAL_TEST),
            }

        def _examples(self, start, n):
            # Pixel value = example id, so every image says who it is.
            for i in range(start, start + n):
                yield i, {'image': np.full((28, 28, 1), i, np.uint8), 'label': i % 10}

    # For a builder defined in a dotted module, tfds looks for its source file
    # through importlib_resources, which tfds 4.9.10 uses but does not install
    # on Python >= 3.9; a top-level module name skips that lookup.
    TinyMnist.__module__ = 'tiny_mnist'

    def png(self, image):
        buffer = io.BytesIO()
        Image.fromarray(np.asarray(image)[..., 0]).save(buffer, format='PNG')
        return buffer.getvalue()

    data_dir = tmp_path_factory.mktemp('tfds')
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(tfds.features.Image, 'encode_example', png)
        TinyMnist(data_dir=data_dir, file_format='array_record').download_and_prepare(
            download_config=tfds.download.DownloadConfig(compute_stats=tfds.download.ComputeStatsMode.SKIP)
        )
    return data_dir
