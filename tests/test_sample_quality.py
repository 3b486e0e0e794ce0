"""Offline sample quality: MMD, Fréchet distance, class and mixture-mode coverage."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from zoo import data
from zoo import sample_quality as sq


def gaussian(key, n, shift=0.0, d=4):
    return jax.random.normal(key, (n, d)) + shift


def test_mmd_is_zero_on_average_for_one_distribution_and_positive_for_a_shift():
    keys = jax.random.split(jax.random.key(0), 42)
    bandwidth = jnp.array([1.0, 2.0, 4.0])
    mmd = jax.jit(sq.mmd_squared)
    null = np.array(
        [float(mmd(gaussian(keys[2 * i], 200), gaussian(keys[2 * i + 1], 200), bandwidth)) for i in range(20)]
    )
    # Unbiased: the mean of independent null estimates is 0 within its standard error.
    assert abs(null.mean()) < 3 * null.std(ddof=1) / np.sqrt(len(null))
    shifted = float(mmd(gaussian(keys[40], 200), gaussian(keys[41], 200, shift=0.5), bandwidth))
    assert shifted > null.max() + 3 * null.std(ddof=1)


def test_mmd_matches_a_brute_force_sum():
    x, y = np.random.default_rng(0).normal(size=(2, 7, 3))
    s = 1.3
    k = lambda a, b: np.exp(-np.sum((a - b) ** 2) / (2 * s**2))
    xx = sum(k(x[i], x[j]) for i in range(7) for j in range(7) if i != j) / 42
    yy = sum(k(y[i], y[j]) for i in range(7) for j in range(7) if i != j) / 42
    xy = sum(k(x[i], y[j]) for i in range(7) for j in range(7)) / 49
    np.testing.assert_allclose(sq.mmd_squared(jnp.asarray(x), jnp.asarray(y), s), xx + yy - 2 * xy, rtol=1e-5)


def test_frechet_distance_of_a_distribution_with_itself_is_zero_and_matches_gaussians():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(5000, 3))
    assert sq.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-8)
    # Isotropic Gaussians: |mu_a - mu_b|^2 + d (s_a - s_b)^2; sampling error ~ d / sqrt(n).
    b = 2.0 * rng.normal(size=(5000, 3)) + 1.0
    assert sq.frechet_distance(a, b) == pytest.approx(3 * 1.0 + 3 * 1.0, abs=0.3)
    with pytest.raises(ValueError, match='same d'):
        sq.frechet_distance(a, b[:, :2])


def test_class_coverage_sees_a_collapsed_generator():
    balanced = np.repeat(np.arange(10), 50)
    assert sq.class_coverage(balanced, 10) == {'coverage': 1.0, 'histogram_tv': 0.0}
    collapsed = sq.class_coverage(np.repeat([3, 7], 250), 10)
    assert collapsed['coverage'] == 0.2 and collapsed['histogram_tv'] == pytest.approx(0.8)


def test_mixture_mode_coverage():
    centres = np.array([[0.0, 0.0], [4.0, 0.0], [0.0, 4.0]])
    rng = np.random.default_rng(0)
    points = centres[rng.integers(0, 2, 600)] + 0.03 * rng.normal(size=(600, 2))  # modes 0 and 1 only
    result = sq.mixture_mode_coverage(np.concatenate([points, [[2.0, 2.0]] * 6]), centres, std=0.1)
    assert result['modes_covered'] == 2 and result['coverage'] == pytest.approx(2 / 3)
    assert result['high_quality'] == pytest.approx(600 / 606)


@pytest.fixture(scope='module')
def digits_classifier():
    dataset = data.open_dataset('digits')
    train = list(dataset.eval_batches(2000, 'train'))[0]
    keep = train['mask']
    return sq.SampleClassifier(dataset.info.num_levels, hidden=64).fit(train['image'][keep], train['label'][keep])


def test_classifier_on_digits_test_images(digits_classifier):
    test = list(data.open_dataset('digits').eval_batches(1000, 'test'))[0]
    images, labels = test['image'][test['mask']], test['label'][test['mask']]
    assert digits_classifier.accuracy(images, labels) > 0.9
    half = len(images) // 2
    same = sq.image_sample_quality(images[:half], images[half:], digits_classifier, labels[half:])
    noise = np.random.default_rng(0).integers(0, 17, images[:half].shape).astype(np.uint8)
    different = sq.image_sample_quality(noise, images[half:], digits_classifier, labels[half:])
    assert same['coverage'] == 1.0 and same['histogram_tv'] < 0.15
    assert (
        different['mmd2'] > 10 * abs(same['mmd2']) and different['classifier_frechet'] > 5 * same['classifier_frechet']
    )
