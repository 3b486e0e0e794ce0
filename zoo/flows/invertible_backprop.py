"""Memory-free backprop through a chain of invertible steps.

Backprop normally keeps every step's activations, so training memory grows with the
depth K.  An invertible step does not need them: its input can be rebuilt from its
output.  The backward pass walks the steps from last to first, recomputes each step's
input with the inverse, re-runs that one step forward under ``jax.vjp`` and pulls the
cotangents through it.  Only one step's activations are alive at a time, so activation
memory is independent of K, at the price of one extra inverse and forward per step.

Idea: Gomez, Ren, Urtasun & Grosse 2017, "The Reversible Residual Network:
Backpropagation Without Storing Activations"; also used by i-RevNet (Jacobsen et al.
2018) and MintNet (Song et al. 2019).
"""

import functools

import jax
import jax.numpy as jnp


def invertible_scan(step, step_inverse, params, consts, x, reverse=False, context=None):
    """Run K invertible steps over stacked variables; backprop rebuilds activations by inversion.

    ``step(params_k, consts_k, x, context) -> (y, log_det)`` and its exact inverse
    ``step_inverse(params_k, consts_k, y, context) -> (x, -log_det)``; ``params`` and ``consts``
    are pytrees whose leaves are stacked on a leading axis of length K.  Returns

        y = f_K o ... o f_1 (x),   log_det = sum_k log|det J_k|   (per example)

    (steps K..1 when ``reverse``), exactly as ``lax.scan`` would.  The gradient:

        x_k = f_k^{-1}(y_k),  (dL/dparams_k, dL/dx_k) = vjp(f_k at x_k)(dL/dy_k, dL/dlog_det)

    with dL/dy_{k-1} = dL/dx_k, going from the last step to the first (Gomez et al. 2017).
    The forward pass keeps only ``y``; ``consts`` (fixed permutations, signs) get no
    gradient.  ``context`` (any pytree, or None) goes unchanged to every step; its
    gradient is the sum of the steps' vjps.  ``step`` and ``step_inverse`` are static Python callables: they may close
    over configuration but not over traced arrays (pass those in ``params``/``consts``).
    """
    return _invertible_scan(step, step_inverse, reverse, params, consts, x, context)


def _run(step, reverse, params, consts, x, context):
    def body(carry, vars_k):
        x, log_det = carry
        y, ld = step(*vars_k, x, context)
        return (y, log_det + ld), None

    log_det = jnp.zeros(x.shape[0], x.dtype)
    (y, log_det), _ = jax.lax.scan(
        body, (x, log_det), (params, consts), reverse=reverse, length=_length((params, consts))
    )
    return y, log_det


@functools.partial(jax.custom_vjp, nondiff_argnums=(0, 1, 2))
def _invertible_scan(step, step_inverse, reverse, params, consts, x, context):
    return _run(step, reverse, params, consts, x, context)


def _fwd(step, step_inverse, reverse, params, consts, x, context):
    y, log_det = _run(step, reverse, params, consts, x, context)
    # Residuals: the variables (already in memory), the context and the final output only.
    return (y, log_det), (params, consts, context, y)


def _bwd(step, step_inverse, reverse, residuals, cotangents):
    params, consts, context, y = residuals
    g_y, g_log_det = cotangents

    def body(carry, vars_k):
        y, g_y, g_context = carry
        params_k, consts_k = vars_k
        # Rebuild this step's input from its output instead of having stored it.
        x, _ = step_inverse(params_k, consts_k, y, context)
        _, vjp = jax.vjp(lambda p, x, c: step(p, consts_k, x, c), params_k, x, context)
        # Every step's log-det adds into the total, so each gets the total's cotangent.
        g_params_k, g_x, g_c = vjp((g_y, g_log_det))
        # Every step sees the same context, so its gradient is the sum over the steps.
        return (x, g_x, jax.tree.map(jnp.add, g_context, g_c)), g_params_k

    # The backward pass visits the steps in the opposite order of the forward pass.
    g_context = jax.tree.map(jnp.zeros_like, context)
    (_, g_x, g_context), g_params = jax.lax.scan(
        body, (y, g_y, g_context), (params, consts), reverse=not reverse, length=_length((params, consts))
    )
    return g_params, None, g_x, g_context


_invertible_scan.defvjp(_fwd, _bwd)


def _length(params):
    return jax.tree.leaves(params)[0].shape[0]
