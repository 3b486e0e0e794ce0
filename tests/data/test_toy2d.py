"""Tests for zoo.data.toy2d: sampler shapes and scale, exact densities where they exist."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from zoo.data import toy2d

N = 4000


@pytest.mark.parametrize('name', toy2d.TOY_DENSITIES)
def test_samples_shape_dtype_scale(name):
    x = toy2d.sample(name, 0, N)
    assert x.shape == (N, 2) and x.dtype == jnp.float32
    x = np.asarray(x)
    assert np.all(np.isfinite(x))
    # Roughly standardised: centred, inside about [-4.5, 4.5], not collapsed.
    assert np.all(np.abs(x.mean(axis=0)) < 0.3)
    assert np.quantile(np.abs(x), 0.999) < 4.5
    assert np.all(x.std(axis=0) > 0.8)


@pytest.mark.parametrize('name', toy2d.TOY_DENSITIES)
def test_samples_deterministic_and_jittable(name):
    key = jax.random.key(3)
    a = toy2d.sample(name, key, N)
    b = jax.jit(toy2d.sample, static_argnums=(0, 2))(name, key, N)
    np.testing.assert_allclose(a, b, atol=1e-5)
    np.testing.assert_array_equal(a, toy2d.sample(name, key, N))
    assert not np.allclose(a, toy2d.sample(name, jax.random.key(4), N))


def test_unknown_name():
    with pytest.raises(ValueError, match='two_moons.*checkerboard'):
        toy2d.sample('swiss_roll', 0, 10)
    with pytest.raises(ValueError, match='no closed-form'):
        toy2d.log_density('pinwheel', jnp.zeros((3, 2)))
    assert toy2d.has_log_density('checkerboard') and not toy2d.has_log_density('two_moons')


@pytest.mark.parametrize('name', ['eight_gaussians', 'checkerboard'])
def test_samples_land_where_density_is_high(name):
    samples = toy2d.sample(name, 1, N)
    uniform = jax.random.uniform(jax.random.key(2), (N, 2), minval=-4.0, maxval=4.0)
    log_p = toy2d.log_density(name, samples)
    assert log_p.shape == (N,)
    assert np.all(np.isfinite(log_p))  # every sample lies in the support
    # A uniform point is in the checkerboard's support half the time (-inf
    # otherwise), so compare the mean density rather than the mean log-density.
    assert jnp.mean(log_p) > jnp.mean(jnp.maximum(toy2d.log_density(name, uniform), -1e3))
    assert jnp.mean(jnp.exp(log_p)) > 2 * jnp.mean(jnp.exp(toy2d.log_density(name, uniform)))


@pytest.mark.parametrize('name', ['eight_gaussians', 'checkerboard'])
def test_density_integrates_to_one(name):
    # Midpoint rule on [-6, 6]^2, which holds all but a negligible mass.
    h = 12.0 / 600
    grid = jnp.arange(-6.0 + h / 2, 6.0, h)
    xy = jnp.stack(jnp.meshgrid(grid, grid), axis=-1).reshape(-1, 2)
    mass = jnp.sum(jnp.exp(toy2d.log_density(name, xy))) * h * h
    np.testing.assert_allclose(mass, 1.0, atol=2e-3)


def test_checkerboard_cells():
    points = jnp.array([[-3.0, -3.0], [-1.0, -3.0], [1.0, 1.0], [3.0, -1.0], [5.0, 5.0]])
    log_p = toy2d.log_density('checkerboard', points)
    np.testing.assert_allclose(log_p[jnp.array([0, 2, 3])], -np.log(32.0), rtol=1e-6)
    assert log_p[1] == -jnp.inf and log_p[4] == -jnp.inf
