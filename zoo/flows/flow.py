"""What every flow model offers, given a bijection from events to a list of latents.

A subclass sets ``event_shape`` (one example's shape: (H, W, C) for images, (D,) for
vectors) and implements ``forward(x) -> (latents, log_det)``,
``inverse(latents) -> (x, log_det)`` and ``latent_shapes``; the latents are
distributed as the standard ``prior`` ('gaussian' or 'logistic').  Then

    log p(x) = sum_i log p_prior(z_i) + log|det dz/dx|          (change of variables)

and sampling at temperature T decodes z_i ~ prior scaled by T.

Conditional flows: every method takes an optional ``context`` c (N, K), a vector per
example (a one-hot label, a conditioning variable), and then the model is p(x | c):
``forward(x, context)`` and ``inverse(latents, context)`` with the same c.  A subclass
without a use for it keeps the old signatures; it is passed only when not None.
"""

import math

import flax.linen as nn
import jax
import jax.numpy as jnp

from zoo.distributions import get_prior, sum_except_batch


class Flow(nn.Module):
    """Base class: ``encode``, ``decode``, ``log_prob`` and ``sample`` from ``forward``/``inverse``."""

    prior: str = 'gaussian'

    def __post_init__(self):
        get_prior(self.prior)  # fails early on an unknown prior
        super().__post_init__()

    @property
    def event_shape(self) -> tuple:
        """One example's shape, without the batch axis (subclasses define it)."""
        raise NotImplementedError

    @property
    def event_name(self) -> str:
        """What one example is called in error messages."""
        return 'inputs'

    @property
    def num_dims(self) -> int:
        """D = prod(event_shape): the dimension log-likelihoods are divided by for bits/dim."""
        return math.prod(self.event_shape)

    @property
    def latent_shapes(self) -> list:
        """Shapes of the standard-normal latents ``forward`` returns, one per level, without the batch axis. Subclasses
        define it.
        """
        raise NotImplementedError

    def forward(self, x):
        """Encode: ``x -> (latents, log_det)``, with log|det dz/dx| per example. Subclasses define it."""
        raise NotImplementedError

    def inverse(self, latents):
        """Decode: ``latents -> (x, log_det)``; the log-det is minus the forward one at the same point. Subclasses
        define it.
        """
        raise NotImplementedError

    def __call__(self, x, inverse=False, context=None):
        """Encode ``x -> (latents, log_det)``, or with ``inverse=True`` decode ``latents -> (x, log_det)``."""
        if inverse:
            _check_latents(x, self.latent_shapes)
            _check_context(context, x[0].shape[0])
            return self.inverse(list(x), **_kw(context))
        check_events(x, self.event_shape, self.event_name)
        _check_context(context, x.shape[0])
        return self.forward(x, **_kw(context))

    def encode(self, x, context=None):
        """x (N, *event_shape) float -> (list of latents, log|det dz/dx| per example)."""
        return self(x, context=context)

    def decode(self, latents, context=None):
        """List of latents -> x (N, *event_shape)."""
        return self(latents, inverse=True, context=context)[0]

    def log_prob(self, x, context=None):
        """log p(x) (or log p(x | c) given ``context``) in nats per example."""
        log_prior, _ = get_prior(self.prior)
        latents, log_det = self(x, context=context)
        return sum(sum_except_batch(log_prior(z)) for z in latents) + log_det

    def sample(self, key, n: int, temperature: float = 1.0, context=None):
        """n samples: latents from the prior at ``temperature``, decoded (given ``context`` (n, K)).

        Temperature 0 decodes the prior's mode (all latents zero).
        """
        _, sample_prior = get_prior(self.prior)
        keys = jax.random.split(key, len(self.latent_shapes))
        latents = [sample_prior(k, (n, *s), temperature) for k, s in zip(keys, self.latent_shapes)]
        return self.decode(latents, context)


def check_events(x, event_shape, name):
    """Raise unless x is a non-empty float32 or float64 batch of events of ``event_shape``."""
    if not hasattr(x, 'ndim') or x.ndim != len(event_shape) + 1 or tuple(x.shape[1:]) != tuple(event_shape):
        shape = getattr(x, 'shape', type(x).__name__)
        raise ValueError(f'expected {name} of shape (batch, {", ".join(map(str, event_shape))}), got {shape}')
    if not jnp.issubdtype(x.dtype, jnp.floating):
        raise TypeError(
            f'expected floating-point {name} in flow space, got dtype {x.dtype}; '
            'integer pixels go through zoo.images.dequantize first'
        )
    if x.dtype not in (jnp.float32, jnp.float64):
        raise TypeError(
            f'flows take float32 or float64 {name}, got {x.dtype}; cast with x.astype(jnp.float32) '
            "(bf16 compute is Glow's compute_dtype option, with float32 inputs)"
        )
    if x.shape[0] == 0:
        raise ValueError(f'expected at least one example, got an empty batch of {name}')


def _kw(context):
    return {} if context is None else {'context': context}


def _check_context(context, n):
    """Raise unless context is None or a float (n, K) batch of vectors."""
    if context is None:
        return
    if not hasattr(context, 'ndim') or context.ndim != 2 or context.shape[0] != n:
        shape = getattr(context, 'shape', type(context).__name__)
        raise ValueError(f'expected a context of shape (batch={n}, K), got {shape}')
    if not jnp.issubdtype(context.dtype, jnp.floating):
        raise TypeError(f'expected a floating-point context (one-hot labels as float), got dtype {context.dtype}')


def _check_latents(latents, shapes):
    if not isinstance(latents, (list, tuple)) or len(latents) != len(shapes):
        raise ValueError(
            f'expected a list of {len(shapes)} latents with shapes '
            f'{[("batch", *s) for s in shapes]}, got {type(latents).__name__}'
            + (f' of length {len(latents)}' if isinstance(latents, (list, tuple)) else '')
        )
    for i, (z, s) in enumerate(zip(latents, shapes)):
        if z.ndim != len(s) + 1 or tuple(z.shape[1:]) != tuple(s):
            raise ValueError(f'latent {i} should have shape (batch, {", ".join(map(str, s))}), got {z.shape}')
