"""Shared checks for flow layers: round trips and brute-force log-dets in float64.

The suite is compile-bound, so each check compiles as few programs as it can: a layer's
forward and inverse are one program, the float64 round trip and the Jacobians of two
examples another, and the noise that perturbs parameters is drawn with numpy (drawing it
with jax.random compiles one program per parameter shape).
"""

import jax
import jax.numpy as jnp
import numpy as np


def perturb(variables, key, scale=0.2):
    """Add noise to every trained parameter, so zero-initialised layers are not the identity."""
    if 'params' not in variables:
        return variables
    rng = np.random.default_rng(np.asarray(jax.random.key_data(key)))
    noisy = lambda p: np.asarray(p) + (scale * rng.standard_normal(p.shape)).astype(p.dtype)
    return {**variables, 'params': jax.tree.map(noisy, variables['params'])}


def to64(tree):
    return jax.tree.map(lambda a: a.astype(jnp.float64) if jnp.issubdtype(a.dtype, jnp.floating) else a, tree)


def init_perturbed(layer, x, key, scale=0.2):
    k1, k2 = jax.random.split(key)
    return perturb(jax.jit(layer.init)(k1, x), k2, scale)


def jit_apply(layer):
    """layer.apply compiled once per direction (much faster than op-by-op dispatch)."""
    return jax.jit(layer.apply, static_argnames='inverse')


def there_and_back(layer):
    """One program to compile: (y, log_det, inverse(y), inverse's log_det); keyword
    arguments (a context) go to both directions."""

    def run(variables, x, **kwargs):
        y, log_det = layer.apply(variables, x, **kwargs)
        x_back, inverse_log_det = layer.apply(variables, y, inverse=True, **kwargs)
        return y, log_det, x_back, inverse_log_det

    return run


def slogdet_of_jacobians(fn, xs, *per_example, jacobian=jax.jacfwd):
    """log|det J| of x -> fn(x, *rest) (one example to one example) at each row of xs, with
    the same rows of per_example (a context), by slogdet of the flattened Jacobian in x;
    vmapped, so any number of examples is one program."""
    shape = xs.shape[1:]
    flat = lambda v, *rest: fn(v.reshape(shape), *rest).reshape(-1)
    sign, log_det = jnp.linalg.slogdet(jax.vmap(jacobian(flat))(xs.reshape(len(xs), -1), *per_example))
    return sign, log_det


def brute_force_log_det(fn, x, jacobian=jax.jacfwd):
    """log|det J| of fn at one example x (no batch axis), by slogdet of its Jacobian."""
    sign, log_det = jax.jit(lambda x: slogdet_of_jacobians(fn, x[None], jacobian=jacobian))(x)
    assert sign[0] != 0
    return log_det[0]


def assert_round_trip(layer, variables, x, atol):
    """inverse(forward(x)) == x and the inverse's log-det is the negated forward's."""
    _, ld, x_back, ld_inv = jax.jit(there_and_back(layer))(variables, x)
    np.testing.assert_allclose(x_back, x, atol=atol)
    np.testing.assert_allclose(ld_inv, -ld, rtol=1e-5, atol=atol * 10)
    assert ld.shape == (x.shape[0],)
    return float(jnp.max(jnp.abs(x_back - x)))


def assert_float64_round_trip_and_exact_log_det(layer, variables, x):
    """In float64: the round trip to 1e-10, and the log-det of two examples equal to slogdet
    of the layer's Jacobian (one compiled program)."""
    with jax.enable_x64(True):
        v64, x64 = to64(variables), x.astype(jnp.float64)

        def run(v, x):
            one = lambda xi: layer.apply(v, xi[None])[0][0]
            return there_and_back(layer)(v, x), slogdet_of_jacobians(one, x[:2])

        (_, ld, x_back, ld_inv), (sign, exact) = jax.jit(run)(v64, x64)
        assert ld.dtype == jnp.float64
        np.testing.assert_allclose(x_back, x64, atol=1e-10)
        np.testing.assert_allclose(ld_inv, -ld, rtol=1e-5, atol=1e-9)
        assert np.all(sign != 0)
        np.testing.assert_allclose(ld[:2], exact, rtol=1e-9, atol=1e-9)


def check_layer(layer, x, key, atol32=1e-5, scale=0.2):
    """Round trip in float32 and float64, and the exact log-det; returns the float32 error."""
    variables = init_perturbed(layer, x, key, scale)
    err = assert_round_trip(layer, variables, x, atol32)
    assert_float64_round_trip_and_exact_log_det(layer, variables, x)
    return err
