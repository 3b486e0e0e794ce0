"""Sample quality you can compute offline, with no pretrained network to download.

    mmd_squared            kernel two-sample statistic against held-out data (Gretton et al. 2012)
    SampleClassifier       a small classifier trained on the dataset's own training split:
                           predicted classes for mode coverage, hidden features for a Fréchet distance
    class_coverage         which classes (modes) generated samples reach, and how evenly
    frechet_distance       |mu_a - mu_b|^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)) between Gaussian fits
                           (Dowson & Landau 1982); on the classifier's features it is the
                           "classifier feature Fréchet distance", a dataset-local stand-in for FID,
                           *not* FID (no Inception network), so numbers do not compare with papers'
    mixture_mode_coverage  modes of a 2-D Gaussian mixture hit by generated points (Srivastava et al. 2017)
    image_sample_quality   all of the above for a batch of generated images

Images are compared as intensities p / (L - 1) in [0, 1] (``zoo.images.to_intensity``), flattened.
"""

import jax.numpy as jnp
import numpy as np

from zoo import images
from zoo.eval import metrics as eval_metrics


def _squared_distances(a, b):
    return jnp.maximum(jnp.sum(a * a, 1)[:, None] + jnp.sum(b * b, 1)[None, :] - 2.0 * a @ b.T, 0.0)


def median_bandwidth(x, y):
    """sqrt(median of pairwise squared distances in the pooled sample): the median heuristic."""
    pooled = jnp.concatenate([x, y])
    return jnp.sqrt(jnp.median(_squared_distances(pooled, pooled)))


def mmd_squared(x, y, bandwidths):
    """Unbiased MMD^2 (Gretton et al. 2012, eq. 3) with k = sum_s exp(-|a - b|^2 / (2 s^2)).

        MMD_u^2 = 1/(m(m-1)) sum_{i!=j} k(x_i, x_j) + 1/(n(n-1)) sum_{i!=j} k(y_i, y_j)
                  - 2/(m n) sum_{i,j} k(x_i, y_j)

    ``x`` (m, d) and ``y`` (n, d); its expectation is 0 when both come from one
    distribution (so estimates can be slightly negative) and > 0 otherwise, for this
    characteristic kernel.  Jit-able; O((m + n)^2 d) memory and time.
    """
    bandwidths = jnp.atleast_1d(jnp.asarray(bandwidths, x.dtype))
    kernel = lambda d2: jnp.sum(jnp.exp(-d2[..., None] / (2.0 * bandwidths**2)), -1)
    m, n = x.shape[0], y.shape[0]
    k_xx, k_yy, k_xy = (kernel(_squared_distances(a, b)) for a, b in ((x, x), (y, y), (x, y)))
    within = lambda k, size: (jnp.sum(k) - jnp.trace(k)) / (size * (size - 1))
    return within(k_xx, m) + within(k_yy, n) - 2.0 * jnp.mean(k_xy)


def kernel_mmd(x, y, scales=(0.5, 1.0, 2.0)) -> float:
    """``mmd_squared`` with bandwidths ``scales`` times the median heuristic, on flattened inputs."""
    x = jnp.asarray(x, jnp.float32).reshape(len(x), -1)
    y = jnp.asarray(y, jnp.float32).reshape(len(y), -1)
    return float(mmd_squared(x, y, median_bandwidth(x, y) * jnp.asarray(scales)))


def frechet_distance(features_a, features_b) -> float:
    """|mu_a - mu_b|^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)) between Gaussians fitted to two feature sets
    (Dowson & Landau 1982): ``zoo.eval.metrics.frechet_distance`` on their means and covariances."""
    a, b = np.asarray(features_a, np.float64), np.asarray(features_b, np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f'need two (N, d) feature arrays with the same d, got {a.shape} and {b.shape}')
    return eval_metrics.frechet_distance_of_features(a, b)


def flat_intensities(pixels, num_levels: int) -> np.ndarray:
    """uint8 pixels (N, H, W, C) -> float32 (N, H*W*C) intensities in [0, 1] (``images.to_intensity``)."""
    pixels = np.asarray(pixels)
    return np.asarray(images.to_intensity(pixels, num_levels)).reshape(len(pixels), -1)


class SampleClassifier:
    """A small MLP classifier (scikit-learn) trained on the dataset's own training split.

    ``predict`` gives classes for mode coverage; ``features`` the hidden layer's ReLU
    activations, the space of the Fréchet distance.  One hidden layer keeps it quick on
    CPU (digits: seconds; MNIST: about a minute) and is enough to tell digits apart.
    """

    def __init__(self, num_levels: int, hidden: int = 256, max_iter: int = 200, seed: int = 0):
        from sklearn.neural_network import MLPClassifier

        self.num_levels = num_levels
        self.model = MLPClassifier(
            hidden_layer_sizes=(hidden,), max_iter=max_iter, early_stopping=True, random_state=seed
        )

    def fit(self, pixels, labels) -> 'SampleClassifier':
        """Train on (pixels, labels); returns self."""
        self.model.fit(flat_intensities(pixels, self.num_levels), np.asarray(labels))
        self.num_classes = len(self.model.classes_)
        return self

    def accuracy(self, pixels, labels) -> float:
        """Accuracy on labelled images (check it on held-out data before trusting coverage)."""
        return float(np.mean(self.predict(pixels) == np.asarray(labels)))

    def predict(self, pixels) -> np.ndarray:
        """The predicted class of each image."""
        return self.model.predict(flat_intensities(pixels, self.num_levels))

    def features(self, pixels) -> np.ndarray:
        """relu(x W_1 + b_1): the hidden layer's activations, shape (N, hidden)."""
        x = flat_intensities(pixels, self.num_levels)
        return np.maximum(x @ self.model.coefs_[0] + self.model.intercepts_[0], 0.0)


def class_coverage(predicted, num_classes: int, reference=None, min_share: float = 0.25) -> dict:
    """How generated samples spread over classes.

    ``coverage``: the fraction of classes that receive at least ``min_share`` times
    their share in ``reference`` labels (uniform if None) -- a class a mode-collapsed
    generator never draws counts as missed.  ``histogram_tv``: the total variation
    distance between the generated and the reference class histograms (0: same mix).
    """
    generated = np.bincount(np.asarray(predicted), minlength=num_classes) / len(predicted)
    target = (
        np.full(num_classes, 1.0 / num_classes)
        if reference is None
        else np.bincount(np.asarray(reference), minlength=num_classes) / len(reference)
    )
    covered = generated >= min_share * target
    return {'coverage': float(np.mean(covered)), 'histogram_tv': float(0.5 * np.sum(np.abs(generated - target)))}


def mixture_mode_coverage(points, centres, std: float, radius: float = 3.0, min_share: float = 0.25) -> dict:
    """Modes of an equal-weight 2-D Gaussian mixture reached by generated points.

    A point is "high quality" within ``radius`` standard deviations of its nearest
    centre (Srivastava et al. 2017, VEEGAN); a mode is covered when it gets at least
    ``min_share`` of its fair share 1/K of the points.  Returns ``modes_covered`` (a
    count), ``coverage`` (the fraction) and ``high_quality`` (the fraction of points).
    """
    points, centres = np.asarray(points, np.float64), np.asarray(centres, np.float64)
    distances = np.linalg.norm(points[:, None, :] - centres[None, :, :], axis=-1)
    nearest, good = distances.argmin(1), distances.min(1) <= radius * std
    counts = np.bincount(nearest[good], minlength=len(centres))
    covered = counts >= min_share * len(points) / len(centres)
    return {'modes_covered': int(covered.sum()), 'coverage': float(covered.mean()), 'high_quality': float(good.mean())}


def image_sample_quality(
    generated, held_out, classifier: SampleClassifier, reference_labels=None, max_mmd_samples: int = 2000
) -> dict:
    """Pixel-space kernel MMD^2, class coverage and classifier-feature Fréchet distance
    of ``generated`` against ``held_out`` images (uint8, same shape)."""
    n = min(len(generated), len(held_out), max_mmd_samples)
    return {
        'mmd2': kernel_mmd(
            flat_intensities(generated[:n], classifier.num_levels),
            flat_intensities(held_out[:n], classifier.num_levels),
        ),
        **class_coverage(classifier.predict(generated), classifier.num_classes, reference_labels),
        'classifier_frechet': frechet_distance(classifier.features(generated), classifier.features(held_out)),
    }


__all__ = [
    'SampleClassifier',
    'class_coverage',
    'flat_intensities',
    'frechet_distance',
    'image_sample_quality',
    'kernel_mmd',
    'median_bandwidth',
    'mixture_mode_coverage',
    'mmd_squared',
]
