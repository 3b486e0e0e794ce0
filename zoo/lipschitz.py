"""Lipschitz constraints shared by GANs, EBMs and residual flows (Miyato et al. 2018;
Gulrajani et al. 2017; Behrmann et al. 2019).

    spectral normalisation   W_hat = W * c / sigma(W)           mode='normalize' (SN-GAN, c = 1)
                             W_hat = W * min(1, c / sigma(W))   mode='shrink'    (i-ResNet, c < 1)
    spectral regulariser     lambda * sigma(W)^2                (Yoshida & Miyato 2017)
    gradient penalty         lambda (|grad_x D(x_hat)| - 1)^2   two-sided (Gulrajani et al. 2017)
                             lambda max(|grad_x D(x_hat)| - 1, 0)^2   one-sided (Petzka et al. 2018)
    weight clipping          W <- clip(W, -limit, limit)        (Arjovsky et al. 2017)

Normalisation happens in the forward pass, not as a clip after the update, so the
gradient flows through sigma(W).  ``SpectralDense`` and ``SpectralConv`` keep the
power-iteration vector u in the variable collection ``'spectral'``:

    y, updates = layer.apply(variables, x, update_stats=True, mutable=['spectral'])   # training
    y = layer.apply(variables, x)                                                     # evaluation

Both modes run the same ``num_iters`` power-iteration steps from the stored u, so
evaluation sees exactly the weights the last training step would have used; only
``update_stats=True`` writes the new u back (``update_stats=None``, the default:
write it back exactly when 'spectral' is mutable, so a model deep inside other
modules updates its vectors by ``apply(..., mutable=['spectral'])`` alone).  Each call also ``sow``s the
differentiable sigma into the ``'sigmas'`` collection (kept when that collection is
mutable), which is what ``spectral_norm_regularizer`` sums.

``SpectralConv`` bounds the operator norm of the convolution itself (power
iteration through the conv and its transpose), the bound a Lipschitz argument
needs; ``flax.linen.SpectralNorm`` normalises the reshaped kernel instead, which
can under-estimate the conv's norm by a factor up to sqrt(kh kw), and has no
'shrink' mode, so it does not fit here.
"""

from collections.abc import Sequence
from typing import Any, Literal

import flax.linen as nn
import jax
import jax.numpy as jnp

from zoo.linalg import conv_operator, operator_spectral_norm

MODES = ('normalize', 'shrink', 'none')


def normalize_weight(w: jax.Array, sigma: jax.Array, coeff: float = 1.0, mode: str = 'normalize') -> jax.Array:
    """W * c / sigma ('normalize'), W * min(1, c / sigma) ('shrink') or W ('none').

    'normalize' makes sigma(W_hat) = c whatever sigma(W) is (Miyato et al. 2018, with
    c = 1); 'shrink' only scales W down when sigma(W) > c, so Lip <= c < 1 keeps a
    residual block invertible (Behrmann et al. 2019, eq. 3).
    """
    if mode == 'normalize':
        return w * (coeff / sigma)
    if mode == 'shrink':
        # written as a division by max(1, sigma / c) so sigma = 0 (a zero kernel) stays finite
        return w / jnp.maximum(1.0, sigma / coeff)
    if mode == 'none':
        return w
    raise ValueError(f'unknown spectral mode {mode!r}; choose one of {MODES}')


class _SpectralMixin:
    """Reads u from 'spectral', runs power iteration, writes u back when asked, sows sigma."""

    def _sigma(self, apply, apply_transpose, u_shape, dtype, update_stats):
        # Flax calls variable initialisers abstractly on later calls too, so the key
        # must exist outside init; it only matters at init.
        key = self.make_rng('params') if self.is_initializing() else jax.random.key(0)
        u_var = self.variable('spectral', 'u', lambda: _unit(jax.random.normal(key, u_shape, dtype)))
        if u_var.value.shape != tuple(u_shape):
            raise ValueError(
                f'{type(self).__name__}: stored power-iteration vector has shape {u_var.value.shape} '
                f'but this input needs {tuple(u_shape)}; the layer is tied to the input size it was '
                'initialised with'
            )
        # Many iterations at init so that the first steps already use a good sigma.
        iters = self.init_iters if self.is_initializing() else self.num_iters
        sigma, u = operator_spectral_norm(apply, apply_transpose, u_var.value, iters)
        if update_stats is None:
            update_stats = self.is_mutable_collection('spectral')
        if update_stats or self.is_initializing():
            u_var.value = u
        if not self.is_initializing():  # init's variables should not carry a stale sigma
            self.sow('sigmas', 'sigma', sigma)
        return sigma


def _unit(x):
    return x / jnp.linalg.norm(x)


class SpectralDense(nn.Module, _SpectralMixin):
    """Dense layer y = x W_hat + b with W_hat from ``normalize_weight`` (sigma by power iteration).

    Attributes:
        features: output width.
        coeff: the target Lipschitz constant c.
        mode: 'normalize' (W c / sigma: SN-GAN), 'shrink' (W min(1, c/sigma): i-ResNet), 'none'.
        num_iters: power-iteration steps per call (1 suffices when u is carried over).
        init_iters: steps at initialisation, from a random u.
    """

    features: int
    coeff: float = 1.0
    mode: Literal['normalize', 'shrink', 'none'] = 'normalize'
    use_bias: bool = True
    num_iters: int = 1
    init_iters: int = 50
    kernel_init: nn.initializers.Initializer = nn.initializers.lecun_normal()

    @nn.compact
    def __call__(self, x, update_stats: bool | None = None):
        """y = x (W / sigma(W)) + b with sigma(W) from power iteration; ``update_stats`` advances the vectors."""
        kernel = self.param('kernel', self.kernel_init, (x.shape[-1], self.features), x.dtype)
        w = kernel.T  # y = x K acts on columns as K^T: u lives in the output space
        sigma = self._sigma(lambda v: w @ v, lambda u: w.T @ u, (self.features,), x.dtype, update_stats)
        y = x @ normalize_weight(kernel, sigma, self.coeff, self.mode)
        if self.use_bias:
            y = y + self.param('bias', nn.initializers.zeros, (self.features,), x.dtype)
        return y


class SpectralConv(nn.Module, _SpectralMixin):
    """2-D convolution (NHWC) with the conv operator's norm bounded by ``normalize_weight``.

    sigma is the operator norm of the convolution on one (H, W, C_in) input of the
    size the layer was initialised with (u has the output's shape), found by power
    iteration through the convolution and its transpose (``zoo.linalg.conv_operator``).
    Attributes as ``SpectralDense``, plus ``kernel_size``, ``strides``, ``padding``.
    """

    features: int
    kernel_size: Sequence[int] = (3, 3)
    strides: Sequence[int] = (1, 1)
    padding: str = 'SAME'
    coeff: float = 1.0
    mode: Literal['normalize', 'shrink', 'none'] = 'normalize'
    use_bias: bool = True
    num_iters: int = 1
    init_iters: int = 50
    kernel_init: nn.initializers.Initializer = nn.initializers.lecun_normal()

    @nn.compact
    def __call__(self, x, update_stats: bool | None = None):
        """A conv with its kernel divided by its operator norm (power iteration on the conv itself)."""
        if x.ndim != 4:
            raise ValueError(f'SpectralConv needs NHWC input, got shape {x.shape}')
        shape = (*self.kernel_size, x.shape[-1], self.features)
        kernel = self.param('kernel', self.kernel_init, shape, x.dtype)
        apply, apply_transpose = conv_operator(kernel, x.shape[1:], self.strides, self.padding)
        out_shape = jax.eval_shape(apply, jax.ShapeDtypeStruct(x.shape[1:], x.dtype)).shape
        sigma = self._sigma(apply, apply_transpose, out_shape, x.dtype, update_stats)
        y = jax.lax.conv_general_dilated(
            x,
            normalize_weight(kernel, sigma, self.coeff, self.mode),
            tuple(self.strides),
            self.padding,
            dimension_numbers=('NHWC', 'HWIO', 'NHWC'),
        )
        if self.use_bias:
            y = y + self.param('bias', nn.initializers.zeros, (self.features,), x.dtype)
        return y


class SpectralKernel(nn.Module, _SpectralMixin):
    """Only the normalised weight W_hat of a dense (in, out) or conv (kh, kw, in, out) kernel.

    For networks written as pure functions of their weights (the residual blocks'
    g, which estimators differentiate many times per step): the power iteration and
    its state update happen once here, and the caller applies W_hat however it likes.
    ``input_shape`` (H, W, C_in) is needed for a conv kernel (4-D ``shape``).
    """

    shape: Sequence[int]
    input_shape: Sequence[int] | None = None
    strides: Sequence[int] = (1, 1)
    padding: str = 'SAME'
    coeff: float = 1.0
    mode: Literal['normalize', 'shrink', 'none'] = 'normalize'
    num_iters: int = 1
    init_iters: int = 50
    kernel_init: nn.initializers.Initializer = nn.initializers.lecun_normal()
    dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, update_stats: bool | None = None):
        """The normalised kernel W / max(1, sigma(W) / coeff) (``shrink``) or coeff W / sigma(W) (``normalize``)."""
        kernel = self.param('kernel', self.kernel_init, tuple(self.shape), self.dtype)
        if kernel.ndim == 2:
            w = kernel.T
            apply, apply_transpose, out_shape = (lambda v: w @ v), (lambda u: w.T @ u), (kernel.shape[1],)
        elif kernel.ndim == 4 and self.input_shape is not None:
            apply, apply_transpose = conv_operator(kernel, self.input_shape, self.strides, self.padding)
            out_shape = jax.eval_shape(apply, jax.ShapeDtypeStruct(tuple(self.input_shape), self.dtype)).shape
        else:
            raise ValueError(
                f'SpectralKernel needs a 2-D dense shape or a 4-D conv shape with input_shape, '
                f'got shape {tuple(self.shape)} and input_shape {self.input_shape}'
            )
        sigma = self._sigma(apply, apply_transpose, out_shape, self.dtype, update_stats)
        return normalize_weight(kernel, sigma, self.coeff, self.mode)


def spectral_norm_regularizer(sigmas, weight: float) -> jax.Array:
    """lambda * sum over layers of sigma(W)^2 (Yoshida & Miyato 2017, eq. 6).

    ``sigmas`` is the 'sigmas' collection returned by ``apply(..., mutable=['sigmas'])``
    (sigma is differentiable in W there: u^T W v with u, v held fixed); use it with
    mode='none' layers, since normalised layers have sigma(W_hat) = c by construction.
    """
    leaves = jax.tree.leaves(sigmas)
    if not leaves:
        raise ValueError("no sigmas given: apply the model with mutable=['sigmas'] and pass that collection")
    return weight * sum(jnp.sum(jnp.square(s)) for s in leaves)


def interpolate(key: jax.Array, x_real: jax.Array, x_fake: jax.Array) -> jax.Array:
    """x_hat = eps x_real + (1 - eps) x_fake, eps ~ U[0, 1] per example (WGAN-GP's sampling)."""
    if x_real.shape != x_fake.shape:
        raise ValueError(f'real and fake batches differ in shape: {x_real.shape} vs {x_fake.shape}')
    eps = jax.random.uniform(key, (x_real.shape[0],) + (1,) * (x_real.ndim - 1), x_real.dtype)
    return eps * x_real + (1.0 - eps) * x_fake


def critic_gradient_norm(critic, x: jax.Array) -> jax.Array:
    """|grad_x D(x_i)| per example, shape (N,).

    ``critic`` maps a batch (N, ...) to scores (N,); the gradient of their sum gives
    each example's own gradient only when examples do not interact inside D (no
    batch norm).  The small constant keeps the norm differentiable at 0.
    """
    grads = jax.grad(lambda z: jnp.sum(critic(z)))(x)
    return jnp.sqrt(jnp.sum(jnp.square(grads).reshape(x.shape[0], -1), axis=1) + 1e-12)


def gradient_penalty(
    critic, key: jax.Array, x_real: jax.Array, x_fake: jax.Array, weight: float = 10.0, one_sided: bool = False
) -> jax.Array:
    """lambda E[(|grad D(x_hat)| - 1)^2] (two-sided) or lambda E[max(|grad D(x_hat)| - 1, 0)^2] (one-sided).

    x_hat interpolates real and fake examples (``interpolate``); Gulrajani et al. 2017
    (two-sided, lambda = 10), Petzka et al. 2018 (one-sided).  Differentiable in the
    critic's parameters (double backprop) when ``critic`` closes over them.
    """
    norms = critic_gradient_norm(critic, interpolate(key, x_real, x_fake))
    excess = norms - 1.0
    if one_sided:
        excess = jnp.maximum(excess, 0.0)
    return weight * jnp.mean(jnp.square(excess))


def clip_weights(params, limit: float = 0.01):
    """W <- clip(W, -limit, limit) on every leaf: WGAN's original constraint (Arjovsky et al. 2017)."""
    if limit <= 0:
        raise ValueError(f'clip limit must be positive, got {limit}')
    return jax.tree.map(lambda w: jnp.clip(w, -limit, limit), params)
