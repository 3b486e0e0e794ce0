"""Invertible (memory-free) backprop: same values and gradients as autodiff, in float32
and float64, under jit; constants get no gradient; activation memory flat in depth."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests.flows.checks import init_perturbed, to64
from zoo import images
from zoo.flows import Glow
from zoo.flows.invertible_backprop import invertible_scan

KEY = jax.random.key(0)


@functools.cache  # initialising compiles; share one model across tests
def tiny_glow():
    # LU 1x1 convs: the step has a 'constants' collection (P, sign s) as well as params.
    model = Glow(image_shape=(4, 4, 2), num_levels=17, scales=1, flow_steps=3, hidden=8, permutation='lu')
    pixels = jax.random.randint(jax.random.key(1), (3, 4, 4, 2), 0, 17)
    x = images.dequantize(jax.random.key(2), pixels, 17)
    return model, init_perturbed(model, x, KEY, 0.05), x


def loss_and_grads(model, variables, x):
    """-mean log p(x) and its gradient w.r.t. the params and the input, jitted."""

    def loss(params, x):
        return -jnp.mean(model.apply({**variables, 'params': params}, x, method=model.log_prob))

    return jax.jit(jax.value_and_grad(loss, argnums=(0, 1)))(variables['params'], x)


def assert_trees_close(a, b, rtol, atol):
    assert jax.tree.structure(a) == jax.tree.structure(b)
    for u, w in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
        np.testing.assert_allclose(u, w, rtol=rtol, atol=atol)


@pytest.mark.parametrize('x64', [False, True])
def test_glow_gradient_equals_autodiff(x64):
    model, v, x = tiny_glow()
    with jax.enable_x64(x64):
        if x64:
            v, x = to64(v), x.astype(jnp.float64)
        loss, (g_params, g_x) = loss_and_grads(model, v, x)
        inv_loss, (inv_g_params, inv_g_x) = loss_and_grads(model.clone(backprop='invertible'), v, x)
        tol = dict(rtol=1e-9, atol=1e-10) if x64 else dict(rtol=2e-4, atol=2e-5)
        np.testing.assert_allclose(inv_loss, loss, **tol)
        assert_trees_close(inv_g_params, g_params, **tol)
        np.testing.assert_allclose(inv_g_x, g_x, **tol)
        assert g_x.dtype == x.dtype
        assert sum(float(jnp.sum(jnp.abs(g))) for g in jax.tree.leaves(inv_g_params)) > 0


def test_glow_encode_and_decode_values_are_identical():
    model, v, x = tiny_glow()
    inv = model.clone(backprop='invertible')
    # Init goes through nn.scan either way: the same variables, so a model can switch.
    assert jax.tree.structure(jax.eval_shape(inv.init, KEY, x)) == jax.tree.structure(v)

    def encode_decode(m):
        def f(v, x):
            latents, log_det = m.apply(v, x)
            return latents, log_det, m.apply(v, [0.8 * z[::-1] for z in latents], inverse=True)

        return jax.jit(f)(v, x)

    # The same operations in two programs: equal up to how the compiler fuses them, a few
    # float32 roundings of each output's largest value.
    a, b = encode_decode(inv), encode_decode(model)
    assert jax.tree.structure(a) == jax.tree.structure(b)
    for u, w in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
        np.testing.assert_allclose(u, w, rtol=0, atol=8 * np.finfo(np.float32).eps * float(np.max(np.abs(w))))


def test_invertible_needs_scanned_steps():
    with pytest.raises(ValueError, match='needs scan=True'):
        Glow(image_shape=(8, 8, 1), backprop='invertible', scan=False)
    with pytest.raises(ValueError, match='unknown backprop'):
        Glow(image_shape=(8, 8, 1), backprop='checkpoint')


# A cheap pure step for the function-level checks: y = (x + b + c) * exp(s) * sign per channel,
# log-det = L * sum(s) for x of shape (N, L, C); the fixed signs play the 'constants', and the
# context c (N, 1, C), or 0 when None, a shift shared by every step.
def affine_step(params, consts, x, context=None):
    c = 0.0 if context is None else context
    y = (x + params['b'] + c) * jnp.exp(params['s']) * consts['sign']
    return y, jnp.full(x.shape[:1], x.shape[1] * jnp.sum(params['s']))


def affine_inverse(params, consts, y, context=None):
    c = 0.0 if context is None else context
    x = y * consts['sign'] * jnp.exp(-params['s']) - params['b'] - c
    return x, -affine_step(params, consts, x, context)[1]


def autodiff_scan(params, consts, x, reverse, context=None):
    def body(carry, vars_k):
        y, ld = affine_step(*vars_k, carry[0], context)
        return (y, carry[1] + ld), None

    return jax.lax.scan(body, (x, jnp.zeros(x.shape[0])), (params, consts), reverse=reverse)[0]


@pytest.mark.parametrize('reverse', [False, True])
def test_invertible_scan_matches_lax_scan_in_float64_and_constants_get_no_gradient(reverse):
    with jax.enable_x64(True):
        k = jax.random.split(KEY, 4)
        params = {'b': jax.random.normal(k[0], (5, 3)), 's': 0.1 * jax.random.normal(k[1], (5, 3))}
        consts = {'sign': jnp.sign(jax.random.normal(k[2], (5, 3)))}
        x = jax.random.normal(k[3], (2, 4, 3))

        def loss(run):
            def f(params, consts, x):
                y, ld = run(params, consts, x)
                return jnp.sum(jnp.sin(y)) + jnp.sum(ld**2)

            return jax.jit(jax.value_and_grad(f, argnums=(0, 1, 2)))(params, consts, x)

        exact, (gp, _, gx) = loss(lambda p, c, x: autodiff_scan(p, c, x, reverse))
        value, (inv_gp, inv_gc, inv_gx) = loss(
            lambda p, c, x: invertible_scan(affine_step, affine_inverse, p, c, x, reverse=reverse)
        )
        np.testing.assert_allclose(value, exact, rtol=1e-12)
        assert_trees_close(inv_gp, gp, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(inv_gx, gx, rtol=1e-10, atol=1e-12)
        assert not jnp.any(inv_gc['sign'])


@pytest.mark.parametrize('reverse', [False, True])
def test_invertible_scan_context_gradient_sums_over_steps(reverse):
    """The context reaches every step; its gradient equals autodiff's through lax.scan."""
    with jax.enable_x64(True):
        k = jax.random.split(KEY, 4)
        params = {'b': jax.random.normal(k[0], (5, 3)), 's': 0.1 * jax.random.normal(k[1], (5, 3))}
        consts = {'sign': jnp.sign(jax.random.normal(k[2], (5, 3)))}
        x = jax.random.normal(k[3], (2, 4, 3))
        context = jnp.linspace(-1.0, 1.0, 6).reshape(2, 1, 3)

        def grads(run):
            f = lambda p, x, c: jnp.sum(jnp.sin(run(p, x, c)[0])) + jnp.sum(run(p, x, c)[1] ** 2)
            return jax.jit(jax.value_and_grad(f, argnums=(0, 1, 2)))(params, x, context)

        exact, (gp, gx, gc) = grads(lambda p, x, c: autodiff_scan(p, consts, x, reverse, c))
        value, (inv_gp, inv_gx, inv_gc) = grads(
            lambda p, x, c: invertible_scan(affine_step, affine_inverse, p, consts, x, reverse=reverse, context=c)
        )
        np.testing.assert_allclose(value, exact, rtol=1e-12)
        assert_trees_close(inv_gp, gp, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(inv_gx, gx, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(inv_gc, gc, rtol=1e-10, atol=1e-12)
        assert float(jnp.sum(jnp.abs(gc))) > 0


def test_activation_memory_does_not_grow_with_depth():
    x = jnp.ones((64, 256, 16))  # 1 MiB of activations per step

    def temp_bytes(depth, invertible):
        params = {'b': jnp.zeros((depth, 16)), 's': jnp.zeros((depth, 16))}
        consts = {'sign': jnp.ones((depth, 16))}
        run = (
            (lambda p, x: invertible_scan(affine_step, affine_inverse, p, consts, x))
            if invertible
            else (lambda p, x: autodiff_scan(p, consts, x, False))
        )
        grad = jax.jit(jax.grad(lambda p, x: jnp.sum(run(p, x)[0] ** 2), argnums=(0, 1)))
        return grad.lower(params, x).compile().memory_analysis().temp_size_in_bytes

    # Autodiff stores one activation per step; the invertible form stores none.
    assert temp_bytes(32, False) - temp_bytes(4, False) > 20 * x.nbytes
    assert abs(temp_bytes(32, True) - temp_bytes(4, True)) < x.nbytes
