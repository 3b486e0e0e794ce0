"""Random affine views: exact on warps with a known answer, in range, deterministic per key."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests.vae import digits
from zoo import images
from zoo.vae import infomax_augment

X = images.to_intensity(digits.batch(16)['image'], digits.INFO.num_levels)
# Compiled once each: eager dispatch compiles every op of the bilinear resampling on its own.
warp = jax.jit(infomax_augment.warp)
random_view = jax.jit(infomax_augment.random_view)
affine_matrices = jax.jit(infomax_augment.affine_matrices, static_argnums=1)


def test_identity_and_whole_pixel_warps_are_exact():
    n = len(X)
    identity = jnp.tile(jnp.eye(2), (n, 1, 1))
    np.testing.assert_allclose(warp(X, identity, jnp.zeros((n, 2))), X, atol=1e-6)
    # t = (1, -2): the image moves one row down and two columns left; what enters reads 0.
    moved = np.asarray(warp(X, identity, jnp.tile(jnp.array([1.0, -2.0]), (n, 1))))
    np.testing.assert_allclose(moved[:, 1:, :-2], X[:, :-1, 2:], atol=1e-6)
    assert np.all(moved[:, 0] == 0) and np.all(moved[:, :, -2:] == 0)
    # A quarter turn about the centre of a square image is a rotation of the pixel grid.
    quarter = jnp.tile(jnp.array([[0.0, -1.0], [1.0, 0.0]]), (n, 1, 1))
    turned = np.asarray(warp(X, quarter, jnp.zeros((n, 2))))
    assert any(np.allclose(turned, np.rot90(X, k, axes=(1, 2)), atol=1e-5) for k in (1, 3))
    # Half a pixel along the rows: the mean of neighbouring rows (bilinear).
    half = np.asarray(warp(X, identity, jnp.tile(jnp.array([0.5, 0.0]), (n, 1))))
    np.testing.assert_allclose(half[:, 1:], (X[:, 1:] + X[:, :-1]) / 2, atol=1e-6)


def test_views_keep_shape_and_range_and_follow_the_key():
    key = jax.random.PRNGKey(3)
    view = random_view(key, X, rotation=15.0, scale=0.1, shift=1.0)
    assert view.shape == X.shape and view.dtype == X.dtype
    assert float(view.min()) >= 0.0 and float(view.max()) <= 1.0
    np.testing.assert_array_equal(view, random_view(key, X, rotation=15.0, scale=0.1, shift=1.0))
    other = random_view(jax.random.PRNGKey(4), X, rotation=15.0, scale=0.1, shift=1.0)
    assert float(jnp.mean(jnp.abs(other - view))) > 0.01
    np.testing.assert_allclose(random_view(key, X, 0.0, 0.0, 0.0), X, atol=1e-6)
    with pytest.raises(ValueError, match='images must be'):
        random_view(key, X[0], 1.0, 0.0, 0.0)


def test_affine_draws_stay_within_their_ranges():
    a, t = affine_matrices(jax.random.PRNGKey(0), 2000, rotation=20.0, scale=0.25, shift=1.5)
    scales = np.sqrt(np.abs(np.linalg.det(np.asarray(a))))
    angles = np.degrees(np.arctan2(a[:, 1, 0], a[:, 0, 0]))
    assert 1 / 1.25 - 1e-5 <= scales.min() < 0.85 and 1.2 < scales.max() <= 1.25 + 1e-5
    assert -20 - 1e-4 <= angles.min() < -19 and 19 < angles.max() <= 20 + 1e-4
    assert np.abs(t).max() <= 1.5 and np.abs(t).max() > 1.45
