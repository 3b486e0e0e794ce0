"""IMLE matching equals brute-force nearest neighbours; pyramids, distances, GLO's sphere."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from zoo.imle import imle


@pytest.fixture
def x64():
    with jax.enable_x64(True):
        yield


def brute_force(queries, pool, distance):
    q, p = np.asarray(queries, np.float64), np.asarray(pool, np.float64)
    diff = q[:, None, :] - p[None, :, :]
    d = np.sum(diff**2, axis=2) if distance == 'l2' else np.sum(np.abs(diff), axis=2)
    return d.argmin(axis=1), d.min(axis=1)


@pytest.mark.parametrize('distance', ['l2', 'laplacian'])
@pytest.mark.parametrize('chunk_size', [7, 64, 1000])
def test_chunked_matching_equals_brute_force(x64, distance, chunk_size):
    k1, k2 = jax.random.split(jax.random.PRNGKey(0))
    queries = imle.features(jax.random.uniform(k1, (13, 4, 4, 1), jnp.float64), distance, levels=2)
    pool = imle.features(jax.random.uniform(k2, (101, 4, 4, 1), jnp.float64), distance, levels=2)
    index, dist = imle.nearest_neighbours(queries, pool, distance, chunk_size)
    exact_index, exact_dist = brute_force(queries, pool, distance)
    np.testing.assert_array_equal(index, exact_index)
    np.testing.assert_allclose(dist, exact_dist, rtol=1e-10, atol=1e-12)


def test_ties_go_to_the_lower_index_across_chunks():
    pool = jnp.array([[5.0], [1.0], [3.0], [1.0], [1.0]])
    index, _ = imle.nearest_neighbours(jnp.array([[1.0]]), pool, 'l2', chunk_size=2)
    assert int(index[0]) == 1


def test_imle_loss_is_mean_nearest_distance_and_moves_only_matched_samples(x64):
    k1, k2 = jax.random.split(jax.random.PRNGKey(1))
    x = jax.random.normal(k1, (6, 3), jnp.float64)
    samples = jax.random.normal(k2, (40, 3), jnp.float64)
    loss, matches = imle.imle_loss(x, samples, chunk_size=16)
    exact_index, exact_dist = brute_force(x, samples, 'l2')
    np.testing.assert_array_equal(matches, exact_index)
    np.testing.assert_allclose(loss, exact_dist.mean(), rtol=1e-12)
    grad = jax.grad(lambda s: imle.imle_loss(x, s, chunk_size=16)[0])(samples)
    moved = np.flatnonzero(np.abs(np.asarray(grad)).sum(1) > 0)
    np.testing.assert_array_equal(moved, np.unique(exact_index))


def test_laplacian_pyramid_reconstructs_the_image_and_weights_lap1(x64):
    up = lambda b, k: jnp.repeat(jnp.repeat(b, 2**k, axis=1), 2**k, axis=2)

    @jax.jit  # one program for the pyramid's sum and both distances
    def run(x, y):
        bands, other = imle.laplacian_pyramid(x, 3), imle.laplacian_pyramid(y, 3)
        lap1 = sum(4.0**j * jnp.sum(jnp.abs(a - b).reshape(2, -1), 1) for j, (a, b) in enumerate(zip(bands, other)))
        fx, fy = imle.features(x, 'laplacian', 3), imle.features(y, 'laplacian', 3)
        return bands, sum(up(b, j) for j, b in enumerate(bands)), lap1, imle.paired_distance(fx, fy, 'laplacian')

    x = jax.random.uniform(jax.random.PRNGKey(2), (2, 8, 8, 3), jnp.float64)
    y = jax.random.uniform(jax.random.PRNGKey(3), (2, 8, 8, 3), jnp.float64)
    bands, upsampled_sum, lap1, distance = run(x, y)
    assert [b.shape[1] for b in bands] == [8, 4, 2, 1]
    np.testing.assert_allclose(upsampled_sum, x, rtol=1e-12)
    np.testing.assert_allclose(distance, lap1, rtol=1e-12)


def test_bad_distances_and_shapes_are_errors():
    with pytest.raises(ValueError, match='unknown distance'):
        imle.features(jnp.zeros((1, 4, 4, 1)), 'cosine')
    with pytest.raises(ValueError, match='divisible by 8'):
        imle.laplacian_pyramid(jnp.zeros((1, 4, 4, 1)), 3)
    with pytest.raises(ValueError, match='needs images'):
        imle.imle_loss(jnp.zeros((2, 3)), jnp.zeros((4, 3)), distance='laplacian')


def test_glo_latents_start_and_stay_on_the_sphere():
    latents = imle.init_latents(jax.random.PRNGKey(4), 50, 8)
    np.testing.assert_allclose(jnp.linalg.norm(latents, axis=1), 1.0, rtol=1e-6)
    rows = jnp.array([3, 7, 11])
    grads = 10.0 * jax.random.normal(jax.random.PRNGKey(5), (3, 8))
    updated = imle.sphere_sgd(latents, rows, grads, lr=0.5)
    np.testing.assert_allclose(jnp.linalg.norm(updated, axis=1), 1.0, rtol=1e-6)
    untouched = np.setdiff1d(np.arange(50), rows)
    np.testing.assert_array_equal(updated[untouched], latents[untouched])
    assert float(jnp.abs(updated[rows] - latents[rows]).min()) > 0
