"""The residual branch g as a pure function of its normalised weights, and the modules that hold them.

    MLP:  g(x) = W_L phi( ... phi(W_1 x + b_1) ... ) + b_L
    CNN:  g(x) = conv3x3( phi( conv1x1( phi( conv3x3( phi(x) ) ) ) ) )     (i-ResNet / Residual Flows)

Each W is scaled by min(1, c / sigma(W)) (``zoo.lipschitz``, mode 'shrink'), with
sigma the operator norm (of the convolution itself for convs), and phi has
derivative <= 1, so Lip(g) <= c^L < 1.  The modules return the weights (a list of
dicts ``kernel``, ``bias``, ``beta``) rather than g(x): a log-det estimator
evaluates g and its vector-Jacobian products many times per step, and must do so
with one fixed set of weights and one power-iteration update.
"""

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from zoo.lipschitz import SpectralKernel
from zoo.residual.activations import get_activation, softplus_inverse


def mlp_branch(weights: list, x: jax.Array, activation: str) -> jax.Array:
    """g(x) = W_L phi(... phi(x W_1 + b_1) ...) + b_L on (N, D) inputs."""
    phi = get_activation(activation)
    for i, layer in enumerate(weights):
        x = x @ layer['kernel'] + layer['bias']
        if i < len(weights) - 1:
            x = phi(x, jax.nn.softplus(layer['beta']))
    return x


def cnn_branch(weights: list, x: jax.Array, activation: str) -> jax.Array:
    """g(x) = conv(phi(conv(phi(... conv(phi(x)))))) on NHWC inputs, 'SAME' padding, stride 1."""
    phi = get_activation(activation)
    for layer in weights:
        x = phi(x, jax.nn.softplus(layer['beta']))
        x = (
            jax.lax.conv_general_dilated(x, layer['kernel'], (1, 1), 'SAME', dimension_numbers=('NHWC', 'HWIO', 'NHWC'))
            + layer['bias']
        )
    return x


class LipschitzWeights(nn.Module):
    """The normalised weights of g: dense layers for flat inputs, convs for images.

    Attributes:
        hidden: widths of the hidden layers (MLP) or hidden channels (CNN: two hidden maps).
        coeff: c in W * min(1, c / sigma(W)); Lip(g) <= c^(number of layers).
        kernel_sizes: CNN kernel sizes, one per conv (i-ResNet: 3, 1, 3).
        num_iters: power-iteration steps per forward pass.
    """

    hidden: Sequence[int] = (64, 64)
    coeff: float = 0.9
    kernel_sizes: Sequence[int] = (3, 1, 3)
    num_iters: int = 1

    @nn.compact
    def __call__(self, x_shape: tuple, dtype=jnp.float32) -> list:
        """The branch's weights, each spectrally normalised to norm <= coeff, for inputs of ``x_shape``."""
        conv = len(x_shape) == 3
        if conv and len(self.kernel_sizes) != len(self.hidden) + 1:
            raise ValueError(
                f'a CNN branch with hidden {tuple(self.hidden)} needs {len(self.hidden) + 1} '
                f'kernel sizes, got {tuple(self.kernel_sizes)}'
            )
        widths = [x_shape[-1], *self.hidden, x_shape[-1]]
        beta_init = softplus_inverse(1.0)
        weights = []
        for i, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:])):
            if conv:
                k = self.kernel_sizes[i]
                shape, input_shape = (k, k, fan_in, fan_out), (*x_shape[:2], fan_in)
            else:
                shape, input_shape = (fan_in, fan_out), None
            kernel = SpectralKernel(
                shape,
                input_shape,
                coeff=self.coeff,
                mode='shrink',
                num_iters=self.num_iters,
                dtype=dtype,
                name=f'kernel_{i}',
            )()
            bias = self.param(f'bias_{i}', nn.initializers.zeros, (fan_out,), dtype)
            beta = self.param(f'beta_{i}', nn.initializers.constant(beta_init), (), dtype)
            weights.append({'kernel': kernel, 'bias': bias, 'beta': beta})
        return weights


def branch_function(weights: list, activation: str, conv: bool):
    """x -> g(x) with the weights fixed: what the inverse and the log-det estimators call."""
    branch = cnn_branch if conv else mlp_branch
    return lambda x: branch(weights, x, activation)
