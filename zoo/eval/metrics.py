"""Sample-quality metrics on feature vectors (Inception pool features or any other network's).

    gaussian_stats       mean and covariance of a feature set, float64
    frechet_distance     FID's distance between two Gaussian fits (Heusel et al. 2017, eq. 6)
    inception_score      exp E_x KL(p(y|x) || p(y)) over splits (Salimans et al. 2016, sec. 4)
    precision_recall     improved precision and recall, k-NN balls (Kynkäänniemi et al. 2019, sec. 2)
    density_coverage     density and coverage, k-NN balls of the real set (Naeem et al. 2020, sec. 3)

Nearest-neighbour distances are computed on the device in row blocks (an N x M distance
matrix at 10k x 10k stays under a gigabyte per block); everything else is host float64.
"""

import jax
import jax.numpy as jnp
import numpy as np


def gaussian_stats(features) -> tuple[np.ndarray, np.ndarray]:
    """(mu, sigma): the mean and unbiased covariance of (N, d) features, float64 (pytorch-fid's stats)."""
    x = np.asarray(features, np.float64)
    if x.ndim != 2 or len(x) < 2:
        raise ValueError(f'need (N >= 2, d) features, got shape {x.shape}')
    return x.mean(0), np.atleast_2d(np.cov(x, rowvar=False))


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """d^2 = |mu1 - mu2|^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2)): the squared 2-Wasserstein distance
    between N(mu1, S1) and N(mu2, S2) (Dowson & Landau 1982), FID on Inception features.

    Tr (S1 S2)^(1/2) is the sum of the square roots of the eigenvalues of the symmetric PSD
    matrix S1^(1/2) S2 S1^(1/2), which has the same spectrum as S1 S2.  pytorch-fid takes
    ``scipy.linalg.sqrtm(S1 S2)`` instead, which needs an eps fix-up when S1 S2 is singular
    (fewer samples than dimensions); the symmetric form needs none and agrees with it to
    rounding where both are defined.  float64 throughout.
    """
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    sigma1, sigma2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != (len(mu1), len(mu1)):
        raise ValueError(f'mismatched statistics: mu {mu1.shape} / {mu2.shape}, sigma {sigma1.shape} / {sigma2.shape}')
    w, v = np.linalg.eigh(sigma1)
    root1 = (v * np.sqrt(np.maximum(w, 0.0))) @ v.T
    middle = root1 @ sigma2 @ root1
    cross = np.sum(np.sqrt(np.maximum(np.linalg.eigvalsh((middle + middle.T) / 2), 0.0)))
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * cross)


def frechet_distance_of_features(features_a, features_b) -> float:
    """``frechet_distance`` between Gaussians fitted to two (N, d) feature sets."""
    return frechet_distance(*gaussian_stats(features_a), *gaussian_stats(features_b))


def inception_score(probs, splits: int = 10) -> tuple[float, float]:
    """IS = exp( E_x KL(p(y|x) || p(y)) ), p(y) the mean of p(y|x) within each split;
    returns the mean and standard deviation over ``splits`` equal splits (Salimans et al. 2016).

    1 for a generator whose class posterior never changes, the number of classes for
    confident, evenly spread samples.  ``probs``: (N, K) class probabilities.
    """
    p = np.asarray(probs, np.float64)
    if p.ndim != 2 or len(p) < splits:
        raise ValueError(f'need (N >= splits={splits}, K) probabilities, got shape {p.shape}')
    scores = []
    for part in np.array_split(p, splits):
        marginal = part.mean(0, keepdims=True)
        kl = np.sum(part * (np.log(np.maximum(part, 1e-30)) - np.log(np.maximum(marginal, 1e-30))), 1)
        scores.append(np.exp(kl.mean()))
    return float(np.mean(scores)), float(np.std(scores))


@jax.jit
def _squared_distances(a, b):
    d2 = jnp.sum(a * a, 1)[:, None] + jnp.sum(b * b, 1)[None, :] - 2.0 * jnp.matmul(a, b.T, precision='highest')
    return jnp.maximum(d2, 0.0)


def _blocks(a, b, fn, block: int = 2048):
    """Concatenate fn(squared distances of a rows block to all of b) over row blocks of a."""
    b = jnp.asarray(b, jnp.float32)
    return np.concatenate(
        [
            np.asarray(fn(_squared_distances(jnp.asarray(a[i : i + block], jnp.float32), b)))
            for i in range(0, len(a), block)
        ]
    )


def knn_radii(features, k: int) -> np.ndarray:
    """Squared distance from each point to its k-th nearest neighbour in the same set (itself excluded)."""
    if len(features) <= k:
        raise ValueError(f'need more than k={k} points for k-NN radii, got {len(features)}')
    # The smallest squared distance is the point to itself (0); the k-th neighbour is at index k.
    return _blocks(features, features, lambda d2: jnp.sort(d2, axis=1)[:, k])


def _inside_counts(queries, centres, radii) -> np.ndarray:
    """For each query, how many balls B(centre_i, radius_i) contain it (squared radii)."""
    radii = jnp.asarray(radii, jnp.float32)
    return _blocks(queries, centres, lambda d2: jnp.sum(d2 <= radii[None, :], axis=1))


def precision_recall(real, fake, k: int = 3) -> dict:
    """Improved precision and recall (Kynkäänniemi et al. 2019, eq. 1-2).

    The real manifold is the union of balls around each real feature reaching its k-th
    nearest real neighbour; precision is the fraction of fake features inside it, recall
    the fraction of real features inside the fake manifold built the same way.  Low
    precision: samples off the data; low recall: parts of the data never generated.
    """
    real, fake = np.asarray(real, np.float32), np.asarray(fake, np.float32)
    precision = np.mean(_inside_counts(fake, real, knn_radii(real, k)) > 0)
    recall = np.mean(_inside_counts(real, fake, knn_radii(fake, k)) > 0)
    return {'precision': float(precision), 'recall': float(recall)}


def density_coverage(real, fake, k: int = 5) -> dict:
    """Density and coverage (Naeem et al. 2020, eq. 3-4), from k-NN balls of the real set only:

        density  = 1/(k M) sum_j sum_i 1[Y_j in B(X_i, NND_k(X_i))]
        coverage = 1/N sum_i 1[exists j: Y_j in B(X_i, NND_k(X_i))]

    for N real X and M fake Y.  Density counts how many real neighbourhoods a sample sits in
    (about 1 for samples from the data distribution, unbounded above); coverage is the
    share of real neighbourhoods holding at least one sample.  The paper recommends k = 5.
    """
    real, fake = np.asarray(real, np.float32), np.asarray(fake, np.float32)
    radii = knn_radii(real, k)
    density = np.sum(_inside_counts(fake, real, radii)) / (k * len(fake))
    # A real point is covered when its nearest sample lies inside its own ball.
    nearest_fake = _blocks(real, fake, lambda d2: jnp.min(d2, axis=1))
    coverage = np.mean(nearest_fake <= radii)
    return {'density': float(density), 'coverage': float(coverage)}
