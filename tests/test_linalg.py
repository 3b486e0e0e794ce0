"""zoo.linalg against dense brute-force computations in float64."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg

from zoo import linalg


@pytest.fixture(autouse=True)
def x64():
    with jax.enable_x64(True):
        yield


def _unit(x):
    return x / jnp.linalg.norm(x)


def test_random_rotation_is_orthogonal():
    q = linalg.random_rotation(jax.random.key(0), 5, jnp.float64)
    np.testing.assert_allclose(q.T @ q, np.eye(5), atol=1e-12)
    np.testing.assert_allclose(abs(linalg.log_abs_det(q)), 0.0, atol=1e-12)


def test_power_iteration_matches_svd():
    w = jax.random.normal(jax.random.key(1), (7, 5), jnp.float64)
    u = _unit(jax.random.normal(jax.random.key(2), (7,), jnp.float64))
    sigma, u = linalg.spectral_norm(w, u, num_iters=200)
    top = np.linalg.svd(np.asarray(w), compute_uv=False)[0]
    np.testing.assert_allclose(sigma, top, rtol=1e-8)
    # u converged to the top left singular vector, so it is a fixed point
    _, u2 = linalg.spectral_norm(w, u, num_iters=1)
    np.testing.assert_allclose(jnp.abs(u2 @ u), 1.0, rtol=1e-10)


def test_power_iteration_carries_its_vector_between_calls():
    """One step per call, from the carried vector, approaches sigma from below."""
    w = jax.random.normal(jax.random.key(3), (6, 6), jnp.float64)
    top = np.linalg.svd(np.asarray(w), compute_uv=False)[0]
    u = _unit(jax.random.normal(jax.random.key(4), (6,), jnp.float64))
    estimates = []
    step = jax.jit(lambda w, u: linalg.spectral_norm(w, u))
    for _ in range(100):
        sigma, u = step(w, u)
        estimates.append(float(sigma))
    assert all(e <= top * (1 + 1e-12) for e in estimates)
    np.testing.assert_allclose(estimates[-1], top, rtol=1e-6)
    assert estimates[-1] > estimates[0]


def test_spectral_norm_gradient_is_top_singular_pair():
    w = jax.random.normal(jax.random.key(5), (4, 3), jnp.float64)
    u = _unit(jnp.ones(4, jnp.float64))
    u = linalg.spectral_norm(w, u, num_iters=300)[1]
    grad = jax.grad(lambda w: linalg.spectral_norm(w, u)[0])(w)
    left, _, right = np.linalg.svd(np.asarray(w))
    np.testing.assert_allclose(np.abs(grad), np.abs(np.outer(left[:, 0], right[0])), atol=1e-8)


@pytest.mark.parametrize('strides,padding', [((1, 1), 'SAME'), ((2, 2), 'SAME'), ((1, 1), 'VALID')])
def test_conv_operator_norm_matches_explicit_matrix(strides, padding):
    kernel = jax.random.normal(jax.random.key(6), (3, 3, 2, 3), jnp.float64)
    shape = (5, 5, 2)

    @jax.jit  # one program: the explicit matrix (the conv of each basis image), the transpose, the power iteration
    def run(kernel):
        apply, transpose = linalg.conv_operator(kernel, shape, strides, padding)
        basis = jnp.eye(int(np.prod(shape)), dtype=jnp.float64).reshape(-1, *shape)
        matrix = jax.vmap(lambda e: apply(e).ravel())(basis).T
        y = jax.random.normal(jax.random.key(7), apply(basis[0]).shape, jnp.float64)
        u = _unit(jax.random.normal(jax.random.key(8), y.shape, jnp.float64))
        sigma, _ = linalg.conv_spectral_norm(kernel, u, shape, strides, padding, num_iters=3000)
        return matrix, y, transpose(y), sigma

    matrix, y, transposed, sigma = run(kernel)
    np.testing.assert_allclose(transposed.ravel(), matrix.T @ y.ravel(), atol=1e-10)
    np.testing.assert_allclose(sigma, np.linalg.svd(np.asarray(matrix), compute_uv=False)[0], rtol=1e-6)
    # the reshaped kernel's norm is a different number: the operator norm is the right bound
    reshaped = np.linalg.svd(np.asarray(kernel).reshape(-1, 3), compute_uv=False)[0]
    assert abs(reshaped - float(sigma)) > 1e-3


def test_conv_spectral_norm_rejects_wrong_vector_shape():
    kernel = jnp.ones((3, 3, 2, 3))
    with pytest.raises(ValueError, match='output shape'):
        linalg.conv_spectral_norm(kernel, jnp.ones((5, 5, 2)), (5, 5, 2))
    with pytest.raises(ValueError, match='HWIO'):
        linalg.conv_operator(kernel, (5, 5, 4))


@pytest.mark.parametrize('shape', [(6, 3), (3, 6), (4, 4)])
def test_volume_of_non_square_matrix(shape):
    b = jax.random.normal(jax.random.key(9), shape, jnp.float64)
    singular = np.linalg.svd(np.asarray(b), compute_uv=False)
    np.testing.assert_allclose(linalg.log_volume(b), np.sum(np.log(singular)), rtol=1e-10)
    np.testing.assert_allclose(linalg.volume(b), np.prod(singular), rtol=1e-10)
    if shape[0] == shape[1]:
        np.testing.assert_allclose(linalg.volume(b), abs(np.linalg.det(np.asarray(b))), rtol=1e-10)
    with pytest.raises(ValueError, match='matrix'):
        linalg.log_volume(jnp.ones(3))


def test_log_det_exp_is_trace():
    a = jax.random.normal(jax.random.key(10), (5, 5), jnp.float64)
    e = scipy.linalg.expm(np.asarray(a))
    np.testing.assert_allclose(linalg.log_det_exp(a), np.linalg.slogdet(e)[1], rtol=1e-10)
    np.testing.assert_allclose(np.linalg.inv(e), scipy.linalg.expm(-np.asarray(a)), atol=1e-10)
    with pytest.raises(ValueError, match='square'):
        linalg.log_det_exp(jnp.ones((2, 3)))


def test_log1p_series_converges_to_matrix_log():
    a = jax.random.normal(jax.random.key(11), (4, 4), jnp.float64)
    a = 0.5 * a / np.linalg.norm(np.asarray(a), 2)
    exact = scipy.linalg.logm(np.eye(4) + np.asarray(a))
    series = linalg.log1p_series(a, 60)
    np.testing.assert_allclose(series, exact, atol=1e-12)
    # truncation error of the trace is below the geometric tail bound |A|^{n+1} / (1 - |A|)
    n = 5
    err = abs(np.trace(linalg.log1p_series(a, n)) - np.linalg.slogdet(np.eye(4) + np.asarray(a))[1])
    assert err <= 4 * 0.5 ** (n + 1) / (1 - 0.5)
    with pytest.raises(ValueError, match='num_terms'):
        linalg.log1p_series(a, 0)


@pytest.mark.parametrize('scale', [1.0, 0.0, 1e-9])
def test_exp_rank_one_closed_form(scale):
    x = scale * jax.random.normal(jax.random.key(12), (5,), jnp.float64)
    y = jax.random.normal(jax.random.key(13), (5,), jnp.float64)
    z = jax.random.normal(jax.random.key(14), (3, 5), jnp.float64)
    dense = scipy.linalg.expm(np.outer(np.asarray(x), np.asarray(y)))

    @jax.jit  # one program for the matrix, its log-det, both applications and the gradient
    def run(x, y, z):
        grad = jax.grad(lambda x: jnp.sum(linalg.exp_rank_one(x, y)))(x)
        return (
            linalg.exp_rank_one(x, y),
            linalg.log_det_exp_rank_one(x, y),
            linalg.exp_rank_one_apply(x, y, z),
            linalg.exp_rank_one_apply(x, y, z, inverse=True),
            grad,
        )

    m, log_det, applied, inverse_applied, grad = run(x, y, z)
    np.testing.assert_allclose(m, dense, atol=1e-12)
    np.testing.assert_allclose(log_det, np.linalg.slogdet(dense)[1], atol=1e-12)
    np.testing.assert_allclose(applied, z @ dense.T, atol=1e-12)
    np.testing.assert_allclose(inverse_applied, z @ np.linalg.inv(dense).T, atol=1e-12)
    assert np.all(np.isfinite(grad))


def test_householder_and_rotation_map_a_to_b():
    a = _unit(jax.random.normal(jax.random.key(15), (4,), jnp.float64))
    b = _unit(jax.random.normal(jax.random.key(16), (4,), jnp.float64))
    v = linalg.householder_vector(a, b)
    h = linalg.householder_matrix(v)
    np.testing.assert_allclose(h @ a, b, atol=1e-12)
    np.testing.assert_allclose(h.T @ h, np.eye(4), atol=1e-12)
    np.testing.assert_allclose(linalg.householder_apply(v, a[None])[0], b, atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(np.asarray(h)), -1.0, atol=1e-12)
    r = linalg.rotation_between(a, b)
    np.testing.assert_allclose(r @ a, b, atol=1e-12)
    np.testing.assert_allclose(r.T @ r, np.eye(4), atol=1e-12)
    # a == b: the identity
    np.testing.assert_allclose(linalg.householder_matrix(linalg.householder_vector(a, a)), np.eye(4), atol=1e-12)


def test_householder_in_float32_for_nearly_equal_vectors():
    """a and b 1e-6 apart: H a was 0.064 from b (the norms' rounding over |a - b|); now within sqrt(eps)."""
    key = jax.random.key(20)
    a = _unit(jax.random.normal(key, (16,), jnp.float32))
    worst = 0.0
    for gap in (1e-7, 1e-6, 1e-5, 1e-4, 3e-4, 1e-3, 1e-2, 0.5):
        b = _unit(a + gap * jax.random.normal(jax.random.fold_in(key, 1), (16,), jnp.float32))
        v = linalg.householder_vector(a, b)
        worst = max(worst, float(jnp.linalg.norm(linalg.householder_apply(v, a[None])[0] - b)))
    assert worst < 1e-3


def test_householder_gradient_at_equal_vectors_is_finite():
    a = _unit(jnp.arange(1.0, 5.0))
    grad = jax.grad(lambda b: jnp.sum(linalg.householder_vector(a, b)))(a)
    assert np.all(np.isfinite(grad))


@pytest.mark.parametrize('n', [2, 3, 4, 5])
@pytest.mark.parametrize('dtype', [jnp.float32, jnp.float64])
def test_rotation_between_is_a_rotation_for_every_pair(n, dtype, x64):
    """det +1 in every dimension (the old formula was a reflection for even n), R a = b, and
    orthogonal to rounding as b -> -a and at b = -a (it lost orthogonality there, then NaN)."""
    eps = float(jnp.finfo(dtype).eps)
    a = _unit(jax.random.normal(jax.random.key(21), (n,), dtype))
    other = _unit(jax.random.normal(jax.random.key(22), (n,), dtype))
    rotation = jax.jit(linalg.rotation_between)  # one program per size, not op-by-op dispatch
    for b in (other, -other, a, _unit(-a + 1e-4 * other), _unit(-a + 1e-7 * other), -a):
        r = rotation(a, b)
        assert r.dtype == dtype
        np.testing.assert_allclose(np.linalg.det(np.asarray(r, np.float64)), 1.0, atol=50 * eps)
        np.testing.assert_allclose(r.T @ r, np.eye(n), atol=50 * eps)
        np.testing.assert_allclose(r @ a, b, atol=50 * eps)
    grad = jax.jit(jax.grad(lambda b: jnp.sum(linalg.rotation_between(a, b))))(-a)
    assert np.all(np.isfinite(grad))


def test_functions_work_under_jit_and_vmap():
    ws = jax.random.normal(jax.random.key(17), (3, 4, 4), jnp.float64)
    us = jnp.ones((3, 4), jnp.float64) / 2
    sigmas, _ = jax.jit(jax.vmap(lambda w, u: linalg.spectral_norm(w, u, 300)))(ws, us)
    np.testing.assert_allclose(sigmas, [np.linalg.norm(np.asarray(w), 2) for w in ws], rtol=1e-6)
