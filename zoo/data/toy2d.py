"""2-D toy densities for density pictures: samplers and, where it exists, the exact log-density.

All densities live roughly in [-4, 4]^2, the scale of the FFJORD and i-ResNet
toy experiments:

* `two_moons`: two interleaved half circles (radius 2) with Gaussian noise.
* `eight_gaussians`: equal mixture of N(c_k, s^2 I), c_k = R (cos 2pi k/8,
  sin 2pi k/8), R = 2 sqrt(2), s = sqrt(2)/4.
* `checkerboard`: uniform on the 8 cells (i, j) of the 2x2 grid over [-4, 4]^2
  with i + j even; density 1/32 there, 0 elsewhere.
* `pinwheel`: 5 arms; radius r ~ N(1, 0.3^2), tangential t ~ N(0, 0.1^2),
  rotated by 2pi k/5 + 0.25 exp(r), scaled by 2.
* `two_spirals`: two opposite Archimedean spirals t (-cos t, sin t) / 3,
  t = 3pi sqrt(u), with N(0, 0.1^2) noise.

`sample(name, key_or_seed, n)` works under `jax.jit` with `n` static.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp

_R8 = 2.0 * math.sqrt(2.0)
_S8 = math.sqrt(2.0) / 4.0


def _as_key(key_or_seed) -> jax.Array:
    if isinstance(key_or_seed, int):
        return jax.random.key(key_or_seed)
    return key_or_seed


def _eight_centres() -> jax.Array:
    angles = 2.0 * jnp.pi * jnp.arange(8) / 8
    return _R8 * jnp.stack([jnp.cos(angles), jnp.sin(angles)], axis=-1)


def _two_moons(key, n):
    k_arm, k_t, k_noise = jax.random.split(key, 3)
    t = jax.random.uniform(k_t, (n,), maxval=jnp.pi)
    upper = jnp.stack([jnp.cos(t), jnp.sin(t)], -1)
    lower = jnp.stack([1.0 - jnp.cos(t), 0.5 - jnp.sin(t)], -1)
    x = jnp.where(jax.random.bernoulli(k_arm, 0.5, (n, 1)), upper, lower)
    x = x + 0.1 * jax.random.normal(k_noise, (n, 2))
    # Centre the pair of moons on the origin, then scale to about [-3, 3].
    return 2.0 * (x - jnp.array([0.5, 0.25]))


def _eight_gaussians(key, n):
    k_c, k_noise = jax.random.split(key)
    centres = _eight_centres()[jax.random.randint(k_c, (n,), 0, 8)]
    return centres + _S8 * jax.random.normal(k_noise, (n, 2))


def _checkerboard(key, n):
    k_cell, k_u = jax.random.split(key)
    # The 8 filled cells (i, j), i + j even, of the 4x4 grid with cell side 2.
    cell = jax.random.randint(k_cell, (n,), 0, 8)
    i = cell // 2
    j = 2 * (cell % 2) + (i % 2)
    # Keep points off cell edges, where float rounding could move them into an
    # empty neighbour (log-density -inf).
    u = jnp.clip(jax.random.uniform(k_u, (n, 2)), 1e-6, 1.0 - 1e-6)
    return 2.0 * (jnp.stack([i, j], -1) + u) - 4.0


def _pinwheel(key, n):
    k_class, k_feat = jax.random.split(key)
    k = jax.random.randint(k_class, (n,), 0, 5)
    eps = jax.random.normal(k_feat, (n, 2))
    radial, tangential = 1.0 + 0.3 * eps[:, 0], 0.1 * eps[:, 1]
    angle = 2.0 * jnp.pi * k / 5 + 0.25 * jnp.exp(radial)
    c, s = jnp.cos(angle), jnp.sin(angle)
    return 2.0 * jnp.stack([c * radial - s * tangential, s * radial + c * tangential], -1)


def _two_spirals(key, n):
    k_arm, k_t, k_noise = jax.random.split(key, 3)
    # sqrt(u) spreads points evenly along the arc length, which grows with t.
    t = 3.0 * jnp.pi * jnp.sqrt(jax.random.uniform(k_t, (n,)))
    arm = jnp.where(jax.random.bernoulli(k_arm, 0.5, (n, 1)), 1.0, -1.0)
    x = arm * jnp.stack([-t * jnp.cos(t), t * jnp.sin(t)], -1) / 3.0
    return x + 0.1 * jax.random.normal(k_noise, (n, 2))


_SAMPLERS = {
    'two_moons': _two_moons,
    'eight_gaussians': _eight_gaussians,
    'checkerboard': _checkerboard,
    'pinwheel': _pinwheel,
    'two_spirals': _two_spirals,
}

TOY_DENSITIES = tuple(_SAMPLERS)


def _check_name(name: str) -> None:
    if name not in _SAMPLERS:
        raise ValueError(f'Unknown toy density {name!r}; known: {", ".join(TOY_DENSITIES)}.')


def sample(name: str, key_or_seed, n: int) -> jax.Array:
    """Returns n samples of the toy density `name` as a float32 (n, 2) array.

    `key_or_seed` is a JAX PRNG key or an int seed.
    """
    _check_name(name)
    return _sample(name, _as_key(key_or_seed), n)


# One compiled program per (name, n) instead of dozens of op-by-op dispatches.
@functools.partial(jax.jit, static_argnums=(0, 2))
def _sample(name, key, n):
    return _SAMPLERS[name](key, n).astype(jnp.float32)


def _log_eight_gaussians(x):
    # log p(x) = logsumexp_k log N(x; c_k, s^2 I) - log 8
    sq = jnp.sum((x[..., None, :] - _eight_centres()) ** 2, axis=-1)
    log_normal = -sq / (2 * _S8**2) - jnp.log(2 * jnp.pi * _S8**2)
    return jax.nn.logsumexp(log_normal, axis=-1) - jnp.log(8.0)


def _log_checkerboard(x):
    # log p(x) = -log 32 on the cells with floor(x/2) summing to an even
    # number inside [-4, 4]^2, -inf elsewhere.
    cells = jnp.floor(x / 2.0).astype(jnp.int32)
    inside = jnp.all((x >= -4.0) & (x < 4.0), axis=-1)
    filled = inside & (jnp.sum(cells, axis=-1) % 2 == 0)
    return jnp.where(filled, -jnp.log(32.0), -jnp.inf)


_LOG_DENSITIES = {
    'eight_gaussians': _log_eight_gaussians,
    'checkerboard': _log_checkerboard,
}


def has_log_density(name: str) -> bool:
    """Returns whether `name` has a closed-form `log_density`."""
    _check_name(name)
    return name in _LOG_DENSITIES


def log_density(name: str, x) -> jax.Array:
    """Returns log p(x), shape x.shape[:-1], for a density with a closed form
    (`eight_gaussians`, `checkerboard`); -inf where p(x) = 0.

    Raises ValueError for the other densities.
    """
    _check_name(name)
    if name not in _LOG_DENSITIES:
        raise ValueError(f'{name!r} has no closed-form density; available for: {", ".join(_LOG_DENSITIES)}.')
    return _log_density(name, jnp.asarray(x, jnp.float32))


@functools.partial(jax.jit, static_argnums=0)
def _log_density(name, x):
    return _LOG_DENSITIES[name](x)
