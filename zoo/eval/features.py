"""Feature networks for sample quality: FID's Inception when its weights exist, else an offline classifier.

Both take uint8 pixels (N, H, W, C) with ``num_levels`` levels and return

    {'features': (N, d) float32, 'probs': (N, K) class probabilities}

and carry a ``name`` that every result quotes, so a reader knows which space a
distance lives in: numbers in the Inception space compare with papers (when the
protocol matches); numbers in a classifier's space compare only within the zoo.
"""

import jax
import jax.numpy as jnp
import numpy as np
from tqdm.auto import tqdm

from zoo import sample_quality
from zoo.eval import inception, weights
from zoo.train import mesh as mesh_lib


class InceptionFeatures:
    """pytorch-fid's network: 2048-d pool features and the softmax of its 1008-way classifier.

    Grey images are repeated to three channels and pixels scaled to [0, 1] before the
    network's own resize to 299 and scaling to [-1, 1] (pytorch-fid's input pipeline).
    Batches are split over every device of a ``data`` mesh, parameters replicated; the
    last batch is padded to a full one so the function compiles once.
    """

    name = 'inception-v3 (pytorch-fid, pool3 2048-d)'

    def __init__(self, params: dict, batch_size: int = 100, devices=None):
        self.mesh = mesh_lib.make_mesh(devices)
        self.batch_size = -(-batch_size // self.mesh.size) * self.mesh.size
        self.params = mesh_lib.replicate(self.mesh, params)
        model = inception.FIDInception()

        def apply(params, images):
            out = model.apply({'params': params}, images)
            return out['pool'], jax.nn.softmax(out['logits'], axis=-1)

        self._apply = jax.jit(
            apply,
            in_shardings=(mesh_lib.replicated(self.mesh), mesh_lib.batch_sharding(self.mesh)),
            out_shardings=mesh_lib.batch_sharding(self.mesh),
        )

    @classmethod
    def from_file(cls, path: str | None = None, **kwargs) -> 'InceptionFeatures':
        """Load converted weights (``zoo.eval.weights``); raises ``MissingWeights`` naming the file."""
        return cls(weights.load_params(path), **kwargs)

    def __call__(self, pixels, num_levels: int, progress: str | None = None) -> dict:
        """``{features: (N, 2048) pool features, probs: class probabilities}`` of uint8 ``pixels``, in batches."""
        pixels = np.asarray(pixels)
        features, probs = [], []
        for start in tqdm(range(0, len(pixels), self.batch_size), desc=progress, disable=progress is None):
            chunk = pixels[start : start + self.batch_size]
            padded = np.concatenate([chunk, np.repeat(chunk[-1:], self.batch_size - len(chunk), 0)])
            x = padded.astype(np.float32) / (num_levels - 1)
            if x.shape[-1] == 1:
                x = np.repeat(x, 3, axis=-1)
            pool, p = self._apply(self.params, mesh_lib.shard_batch(self.mesh, jnp.asarray(x)))
            features.append(np.asarray(pool)[: len(chunk)])
            probs.append(np.asarray(p)[: len(chunk)])
        return {'features': np.concatenate(features), 'probs': np.concatenate(probs)}


class ClassifierFeatures:
    """The offline fallback: ``zoo.sample_quality.SampleClassifier`` trained on the dataset's
    own training split; features are its hidden ReLU layer, probabilities its softmax."""

    def __init__(self, train_pixels, train_labels, num_levels: int, hidden: int = 256, seed: int = 0):
        self.classifier = sample_quality.SampleClassifier(num_levels, hidden=hidden, seed=seed)
        self.classifier.fit(train_pixels, train_labels)
        self.name = f'offline classifier (MLP {hidden} hidden ReLU, trained on the train split; not Inception)'

    def __call__(self, pixels, num_levels: int, progress: str | None = None) -> dict:
        """``{features, probs}`` of uint8 ``pixels`` from the dataset's own offline classifier (not FID's network)."""
        x = sample_quality.flat_intensities(pixels, num_levels)
        return {
            'features': self.classifier.features(pixels).astype(np.float32),
            'probs': self.classifier.model.predict_proba(x),
        }
