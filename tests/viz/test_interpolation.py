"""zoo.interpolation: endpoints, equations, norms, jit/vmap/grad, grids and level resampling."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from zoo.viz import interpolation as I

KEY = jax.random.key(0)


def latents(key, batch=None):
    """A Glow-like list of latents: two levels of different shapes."""
    shapes = [(4, 4, 2), (2, 2, 8)]
    lead = () if batch is None else (batch,)
    keys = jax.random.split(key, len(shapes))
    return [jax.random.normal(k, lead + s) for k, s in zip(keys, shapes)]


def flat(tree):
    return jnp.concatenate([jnp.ravel(z) for z in jax.tree.leaves(tree)])


def close(a, b, atol=1e-5):
    np.testing.assert_allclose(flat(a), flat(b), atol=atol, rtol=1e-5)


Z0, Z1 = latents(jax.random.key(1)), latents(jax.random.key(2))


@pytest.mark.parametrize('method', ['lerp', 'slerp'])
def test_endpoints(method):
    close(I.interpolate(Z0, Z1, 0.0, method), Z0)
    close(I.interpolate(Z0, Z1, 1.0, method), Z1)


def test_lerp_equation():
    close(I.lerp(Z0, Z1, 0.3), [0.7 * a + 0.3 * b for a, b in zip(Z0, Z1)])


def test_slerp_matches_formula_on_the_concatenated_vector():
    a, b, t = flat(Z0), flat(Z1), 0.3
    omega = jnp.arccos(jnp.dot(a, b) / (jnp.linalg.norm(a) * jnp.linalg.norm(b)))
    expected = (jnp.sin((1 - t) * omega) * a + jnp.sin(t * omega) * b) / jnp.sin(omega)
    np.testing.assert_allclose(flat(I.slerp(Z0, Z1, t)), expected, atol=1e-5)


def test_slerp_on_unit_vectors_stays_on_the_circle_at_constant_speed():
    a, b = jnp.array([1.0, 0.0]), jnp.array([0.0, 1.0])
    for t in np.linspace(0, 1, 7):
        z = I.slerp(a, b, t)
        np.testing.assert_allclose(z, [np.cos(t * np.pi / 2), np.sin(t * np.pi / 2)], atol=1e-6)


def test_slerp_keeps_the_norm_where_lerp_shrinks_it():
    norm = lambda z: float(jnp.linalg.norm(flat(z)))
    n0, n1 = norm(Z0), norm(Z1)
    assert norm(I.lerp(Z0, Z1, 0.5)) < 0.8 * min(n0, n1)  # independent Gaussians: ~ 1/sqrt(2)
    assert min(n0, n1) * 0.99 < norm(I.slerp(Z0, Z1, 0.5)) < max(n0, n1) * 1.01


@pytest.mark.parametrize(
    'z1_fn',
    [lambda z: z, lambda z: [2.0 * x for x in z], lambda z: [-x for x in z], lambda z: [jnp.zeros_like(x) for x in z]],
)
def test_slerp_falls_back_to_lerp_when_degenerate(z1_fn):
    z1 = z1_fn(Z0)
    close(I.slerp(Z0, z1, 0.25), I.lerp(Z0, z1, 0.25), atol=1e-4)
    grad = jax.grad(lambda t: jnp.sum(flat(I.slerp(Z0, z1, t))))(0.25)
    assert jnp.isfinite(grad)


@pytest.mark.parametrize('method', ['lerp', 'slerp'])
def test_jit_vmap_grad(method):
    f = lambda a, b, t: I.interpolate(a, b, t, method)
    close(jax.jit(f)(Z0, Z1, 0.4), f(Z0, Z1, 0.4))
    b0, b1 = latents(jax.random.key(3), 3), latents(jax.random.key(4), 3)
    batched = jax.vmap(f, in_axes=(0, 0, None))(b0, b1, 0.4)
    close(I.index(batched, 2), f(I.index(b0, 2), I.index(b1, 2), 0.4))
    g = jax.grad(lambda t: jnp.sum(flat(f(Z0, Z1, t)) ** 2))(0.4)
    eps = 1e-3
    fd = (jnp.sum(flat(f(Z0, Z1, 0.4 + eps)) ** 2) - jnp.sum(flat(f(Z0, Z1, 0.4 - eps)) ** 2)) / (2 * eps)
    np.testing.assert_allclose(g, fd, rtol=1e-2)


@pytest.mark.parametrize('method', ['lerp', 'slerp'])
def test_path(method):
    p = I.path(Z0, Z1, 5, method)
    assert [z.shape for z in p] == [(5, *z.shape) for z in Z0]
    close(I.index(p, 0), Z0)
    close(I.index(p, 4), Z1)
    close(I.index(p, 1), I.interpolate(Z0, Z1, 0.25, method))
    with pytest.raises(ValueError, match='num >= 2'):
        I.path(Z0, Z1, 1)


def test_unknown_method():
    with pytest.raises(ValueError, match='unknown interpolation'):
        I.interpolate(Z0, Z1, 0.5, 'cubic')


@pytest.mark.parametrize('method', ['lerp', 'slerp'])
def test_bilinear_grid_corners_edges_and_order(method):
    corners = [latents(jax.random.key(10 + i)) for i in range(4)]
    rows, cols = 3, 4
    g = I.bilinear_grid(corners, rows, cols, method)
    assert [z.shape for z in g] == [(rows * cols, *z.shape) for z in Z0]
    for k, c in zip([0, cols - 1, (rows - 1) * cols, rows * cols - 1], corners):
        close(I.index(g, k), c)
    # Top row is the path from top-left to top-right; cell (i, j) is bilinear at (j/(cols-1), i/(rows-1)).
    close(jax.tree.map(lambda z: z[:cols], g), I.path(corners[0], corners[1], cols, method))
    close(I.index(g, 1 * cols + 2), I.bilinear(corners, 2 / 3, 1 / 2, method))
    with pytest.raises(ValueError, match='>= 2'):
        I.bilinear_grid(corners, 1, 3)


def test_bilinear_lerp_is_the_bilinear_form():
    corners = [latents(jax.random.key(20 + i)) for i in range(4)]
    u, v = 0.3, 0.8
    w = [(1 - u) * (1 - v), u * (1 - v), (1 - u) * v, u * v]
    expected = jax.tree.map(lambda *zs: sum(wi * z for wi, z in zip(w, zs)), *corners)
    close(I.bilinear(corners, u, v, 'lerp'), expected)


def test_stack_and_index_are_inverse():
    s = I.stack([Z0, Z1])
    close(I.index(s, 0), Z0)
    close(I.index(s, 1), Z1)


def test_resample_levels():
    batch = latents(jax.random.key(5), 3)
    out = I.resample_levels(jax.random.key(6), batch, [-1], temperature=0.5)
    np.testing.assert_array_equal(out[0], batch[0])
    assert out[1].shape == batch[1].shape and not np.allclose(out[1], batch[1])
    big = [jnp.zeros((4000, 8))] * 2
    z = I.resample_levels(jax.random.key(7), big, [0], temperature=0.5)[0]
    np.testing.assert_allclose(jnp.std(z), 0.5, rtol=0.03)
    zero = I.resample_levels(jax.random.key(7), batch, [0, 1], temperature=0.0)
    assert all(float(jnp.max(jnp.abs(z))) == 0.0 for z in zero)
    jitted = jax.jit(I.resample_levels, static_argnums=2)(jax.random.key(6), batch, (1,), 0.5)
    close(jitted, out)
