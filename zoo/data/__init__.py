"""Image datasets for the zoo: where examples come from, and the batches the loop trains on.

    dataset = open_dataset('digits')              # or 'mnist', 'npz:PATH', 'folder:PATH', 'toy2d:two_moons'...
    dataset.info                                  # DatasetInfo: image_shape, num_levels, num_classes
    batches = dataset.train_batches(64, seed=0)   # endless; start_step=k resumes exactly
    for batch in dataset.eval_batches(256, 'validation'):
        batch['image'], batch['label'], batch['index'], batch['mask']   # 'point' for 2-D data

The pipeline, one way:

1. Sources (`sources.py`, `image_folder.py`) give the stored train and test splits as
   random-access sequences of {'image': uint8 (H, W, C), 'label': int32, 'index': int32}:
   scikit-learn's embedded `digits`, TFDS `data_source`s (prepared once with
   `python -m zoo.data prepare <name>`, then read without TensorFlow), `npz:PATH`
   arrays, `folder:PATH` images (both held in memory) and `toy2d:NAME` points
   ({'point': float32 (2,), 'index'}), a fixed draw of a 2-D toy density.
2. A fixed, seed-independent permutation of the stored train split holds out the last
   `validation_fraction` as 'validation'; 'test' is the stored test split, untouched.
3. grain streams (`pipeline.py`) shard a split over processes, then either shuffle,
   repeat and batch it for training, or read it once in order, padded and masked, for
   evaluation.

Pixels stay integers (0..num_levels-1); dequantisation and scaling belong to the model
side (`zoo.images`). The toy densities' samplers and exact log-densities live in `zoo.data.toy2d`.
"""

from zoo.data.image_folder import IMAGE_EXTENSIONS, centre_crop_resize
from zoo.data.pipeline import Dataset, dataset_info, open_dataset
from zoo.data.sources import (
    DATASETS,
    SPLITS,
    DatasetInfo,
    DatasetNotPreparedError,
    default_data_dir,
    digits_images,
    prepare,
)

__all__ = [
    'DATASETS',
    'IMAGE_EXTENSIONS',
    'SPLITS',
    'Dataset',
    'DatasetInfo',
    'DatasetNotPreparedError',
    'centre_crop_resize',
    'dataset_info',
    'default_data_dir',
    'digits_images',
    'open_dataset',
    'prepare',
]
