"""Composing flow layers: a plain chain, and K identical steps scanned over stacked parameters."""

from typing import Any, Literal

import flax.linen as nn
import jax
import jax.numpy as jnp

from zoo.flows.invertible_backprop import invertible_scan


def run_chain(layers, x, inverse=False, context=None):
    """f = f_K o ... o f_1; log-det = sum_k log|det J_k|.  The inverse runs the layers backwards.

    Every layer gets the same ``context`` (f_k(x; c)); with ``context=None`` the layers are
    called without it, so layers written before the context existed still chain.
    """
    kwargs = {} if context is None else {'context': context}
    log_det = jnp.zeros(x.shape[0], x.dtype)
    for layer in reversed(layers) if inverse else layers:
        x, ld = layer(x, inverse=inverse, **kwargs)
        log_det = log_det + ld
    return x, log_det


class _ScanBody(nn.Module):
    step: Any
    step_kwargs: Any
    inverse: bool

    @nn.compact
    def __call__(self, carry, _):
        x, log_det, context = carry
        kwargs = {} if context is None else {'context': context}
        y, ld = self.step(**self.step_kwargs, name='step')(x, inverse=self.inverse, **kwargs)
        return (y, log_det + ld, context), None


class ScannedChain(nn.Module):
    """``length`` copies of the flow step ``step(**step_kwargs)`` run by ``nn.scan``.

    The parameters of all copies are stacked on a leading axis, so the step is traced
    and compiled once whatever the depth.  The inverse scans in reverse order over the
    same stacked parameters.  At ``init`` each copy is initialised on its real input
    (the carry), so data-dependent initialisation (ActNorm) sees every step's input.

    ``backprop='invertible'`` trains without storing activations: outside ``init`` the
    stacked variables are read from this module's scope and run by
    ``invertible_scan``, whose backward pass rebuilds each step's input with the
    inverse (Gomez et al. 2017), so activation memory does not grow with ``length``.
    Values and gradients equal ``'autodiff'`` (the plain ``nn.scan``) to float
    rounding, and both use the same variables, so a model can switch at any time.

    ``unroll=True`` runs the same stacked variables as ``length`` separate copies of
    the step in a Python loop instead of a loop in XLA: compile time grows with the
    depth, but on CPU, where XLA runs its convolution gradients inside a loop an order of
    magnitude slower (jax-ml/jax#12868), each step is faster.  Also switchable at any time.

    A ``context`` (N, K) goes unchanged to every step (in the scan's carry; to
    ``invertible_scan`` as an input whose gradient sums over the steps).
    """

    step: Any
    step_kwargs: Any
    length: int
    backprop: Literal['autodiff', 'invertible'] = 'autodiff'
    unroll: bool = False

    @nn.compact
    def __call__(self, x, inverse=False, context=None):
        """The flow-layer contract: ``x -> (y, log_det)``, or with ``inverse=True`` ``y -> (x, log_det)``; one log-det
        per example. The K steps run as one scan over stacked parameters.
        ``context`` (N, ...) or None conditions the map.
        """
        if self.backprop not in ('autodiff', 'invertible'):
            raise ValueError(f"unknown backprop {self.backprop!r}; choose 'autodiff' or 'invertible'")
        # init always goes through nn.scan, so stacking and data-dependent init are shared.
        if self.backprop == 'invertible' and not self.is_initializing():
            return self._invertible(x, inverse, context)
        if self.unroll and not self.is_initializing():
            return self._unrolled(x, inverse, context)
        body = nn.scan(
            _ScanBody,
            variable_axes={'params': 0, 'constants': 0},
            split_rngs={'params': True},
            length=self.length,
            reverse=inverse,
        )
        carry = (x, jnp.zeros(x.shape[0], x.dtype), context)
        (y, log_det, _), _ = body(self.step, self.step_kwargs, inverse, name='scan')(carry, None)
        return y, log_det

    def _stacked(self):
        # The scanned step's variables, stacked on axis 0: {collection: {'scan': {'step': tree}}},
        # and an unbound copy of the step (parent=None) to apply to one slice of them.
        stacked = {col: tree['scan']['step'] for col, tree in self.variables.items() if 'scan' in tree}
        return stacked, self.step(**self.step_kwargs, parent=None)

    def _unrolled(self, x, inverse, context):
        stacked, module = self._stacked()
        kwargs = {} if context is None else {'context': context}
        log_det = jnp.zeros(x.shape[0], x.dtype)
        for k in reversed(range(self.length)) if inverse else range(self.length):
            x, ld = module.apply(jax.tree.map(lambda v: v[k], stacked), x, inverse=inverse, **kwargs)
            log_det = log_det + ld
        return x, log_det

    def _invertible(self, x, inverse, context):
        stacked, module = self._stacked()

        def apply(direction):
            def fn(params_k, consts_k, x, context):
                kwargs = {} if context is None else {'context': context}
                return module.apply({'params': params_k, **consts_k}, x, inverse=direction, **kwargs)

            return fn

        consts = {col: v for col, v in stacked.items() if col != 'params'}
        return invertible_scan(
            apply(inverse), apply(not inverse), stacked.get('params', {}), consts, x, reverse=inverse, context=context
        )
