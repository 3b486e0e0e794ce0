"""Shared checks for flow layers: round trips and brute-force log-dets in float64."""

import jax
import jax.numpy as jnp
import numpy as np


def perturb(variables, key, scale=0.2):
    """Add noise to every trained parameter, so zero-initialised layers are not the identity."""
    if 'params' not in variables:
        return variables
    leaves, tree = jax.tree.flatten(variables['params'])
    keys = jax.random.split(key, len(leaves))
    noisy = [p + scale * jax.random.normal(k, p.shape, p.dtype) for p, k in zip(leaves, keys)]
    return {**variables, 'params': jax.tree.unflatten(tree, noisy)}


def to64(tree):
    return jax.tree.map(lambda a: a.astype(jnp.float64) if jnp.issubdtype(a.dtype, jnp.floating) else a, tree)


def init_perturbed(layer, x, key, scale=0.2):
    k1, k2 = jax.random.split(key)
    return perturb(jax.jit(layer.init)(k1, x), k2, scale)


def jit_apply(layer):
    """layer.apply compiled once per direction (much faster than op-by-op dispatch)."""
    return jax.jit(layer.apply, static_argnames='inverse')


def assert_round_trip(layer, variables, x, atol):
    """inverse(forward(x)) == x and the inverse's log-det is the negated forward's."""
    apply = jit_apply(layer)
    y, ld = apply(variables, x)
    x_back, ld_inv = apply(variables, y, inverse=True)
    np.testing.assert_allclose(x_back, x, atol=atol)
    np.testing.assert_allclose(ld_inv, -ld, rtol=1e-5, atol=atol * 10)
    assert ld.shape == (x.shape[0],)
    return float(jnp.max(jnp.abs(x_back - x)))


def brute_force_log_det(fn, x):
    """log|det J| of fn at one example x (no batch axis), by slogdet of jax.jacfwd, flattened."""
    flat = lambda v: fn(v.reshape(x.shape)).reshape(-1)
    sign, logdet = jnp.linalg.slogdet(jax.jit(jax.jacfwd(flat))(x.reshape(-1)))
    assert sign != 0
    return logdet


def assert_log_det_exact(layer, variables, x):
    """The layer's log-det equals slogdet of its Jacobian, per example, in float64."""
    with jax.enable_x64(True):
        v64, x64 = to64(variables), x.astype(jnp.float64)
        apply = jit_apply(layer)
        _, ld = apply(v64, x64)
        assert ld.dtype == jnp.float64
        for i in range(min(2, x.shape[0])):
            fn = lambda xi: apply(v64, xi[None])[0][0]
            np.testing.assert_allclose(ld[i], brute_force_log_det(fn, x64[i]), rtol=1e-9, atol=1e-9)


def check_layer(layer, x, key, atol32=1e-5, scale=0.2):
    """Round trip in float32 and float64, and the exact log-det; returns the float32 error."""
    variables = init_perturbed(layer, x, key, scale)
    err = assert_round_trip(layer, variables, x, atol32)
    with jax.enable_x64(True):
        assert_round_trip(layer, to64(variables), x.astype(jnp.float64), 1e-10)
    assert_log_det_exact(layer, variables, x)
    return err
