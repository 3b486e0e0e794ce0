"""Activations with derivative at most 1, so Lip(g) <= prod of the layers' spectral norms."""

import math

import jax


def lipswish(x: jax.Array, beta: jax.Array) -> jax.Array:
    """LipSwish(x) = x sigmoid(beta x) / 1.1 (Chen et al. 2019, sec. 4.2).

    Swish's derivative is at most about 1.1 for every beta > 0, so dividing by 1.1
    makes it 1-Lipschitz; unlike ELU its second derivative does not vanish, which
    keeps the log-det's gradient informative.  ``beta`` > 0 (the modules store
    softplus-parameterised betas).
    """
    return x * jax.nn.sigmoid(beta * x) / 1.1


def elu(x: jax.Array, beta=None) -> jax.Array:
    """ELU(x) = x for x > 0, e^x - 1 otherwise: derivative in (0, 1] (i-ResNet's choice)."""
    del beta
    return jax.nn.elu(x)


ACTIVATIONS = {'lipswish': lipswish, 'elu': elu}


def get_activation(name: str):
    """The activation named ``name`` (``lipswish`` or ``elu``); a ValueError names the choices."""
    if name not in ACTIVATIONS:
        raise ValueError(
            f'unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)} '
            '(a residual block needs derivatives at most 1)'
        )
    return ACTIVATIONS[name]


def softplus_inverse(y: float) -> float:
    """x with softplus(x) = y: initialises LipSwish's beta at 1."""
    return math.log(math.expm1(y))
