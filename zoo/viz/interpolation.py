"""Interpolation in a flow's latent space: linear, spherical, two-point paths, bilinear grids,
and resampling some levels' latents while keeping the others.

A multi-scale flow (``zoo.flows.Glow``) encodes an image into a *list* of latents, one
per level.  Every function here takes such a list (any pytree of arrays) and treats all
of its leaves together as one vector z in R^D, D = total size of the leaves, so that an
interpolation moves every level at once.  The functions act on one example (no batch
axis); ``path`` and ``bilinear_grid`` return a new leading axis that ``model.decode``
reads as the batch.  Everything is pure ``jnp`` and works under ``jax.jit``,
``jax.vmap`` and ``jax.grad``.

Why spherical: a flow's standardised latents are N(0, I), so |z| ~ sqrt(D) with little
spread.  The linear midpoint of two such z has norm ~ sqrt(D/2): it lies well inside
the shell where the prior's mass is, which decodes as an over-smooth, "low-temperature"
image.  Spherical interpolation keeps the norm on the great circle through z0 and z1
(White 2016, "Sampling generative networks", sec. 2.1).

Typical use::

    latents, _ = model.apply(v, x_pair)                 # x_pair: (2, H, W, C)
    z0, z1 = index(latents, 0), index(latents, 1)
    strip = model.apply(v, path(z0, z1, 9, 'slerp'), method=model.decode)
"""

from typing import Literal

import jax
import jax.numpy as jnp

Method = Literal['lerp', 'slerp']


def _dot(a, b):
    return sum(jnp.vdot(x, y) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))


def index(tree, i):
    """Example ``i`` of a batched pytree: every leaf ``z`` becomes ``z[i]``."""
    return jax.tree.map(lambda z: z[i], tree)


def stack(trees):
    """Stack a sequence of pytrees of equal structure along a new leading (batch) axis."""
    return jax.tree.map(lambda *zs: jnp.stack(zs), *trees)


def lerp(z0, z1, t):
    """Linear interpolation z(t) = (1 - t) z0 + t z1, leaf by leaf.

    z(0) = z0, z(1) = z1; t outside [0, 1] extrapolates along the same line.
    """
    return jax.tree.map(lambda a, b: (1.0 - t) * a + t * b, z0, z1)


def slerp(z0, z1, t, eps: float = 1e-6):
    """Spherical linear interpolation (Shoemake 1985; White 2016) over the whole pytree.

    With cos(omega) = <z0, z1> / (|z0| |z1|), the inner product and norms taken over all
    leaves together,

        z(t) = sin((1 - t) omega) / sin(omega) z0 + sin(t omega) / sin(omega) z1.

    For unit vectors z(t) moves at constant speed along the great circle from z0 to z1;
    for others the norm changes smoothly between |z0| and |z1| instead of dipping as in
    ``lerp``.  When |cos(omega)| > 1 - ``eps`` (z0, z1 (anti)parallel) or |z0| |z1| < ``eps``
    the great circle is undefined (or, nearly parallel, indistinguishable from the chord)
    and this returns ``lerp(z0, z1, t)``; gradients stay finite.
    """
    # Norms through max(., tiny) and arccos only away from +-1: both have infinite
    # derivatives there, which would turn the gradient of the unused branch into NaN.
    tiny = jnp.finfo(jnp.result_type(*jax.tree.leaves(z0))).tiny
    norms = jnp.sqrt(jnp.maximum(_dot(z0, z0), tiny)) * jnp.sqrt(jnp.maximum(_dot(z1, z1), tiny))
    cos = _dot(z0, z1) / norms
    degenerate = (norms < eps) | (jnp.abs(cos) > 1.0 - eps)
    omega = jnp.arccos(jnp.where(degenerate, 0.0, cos))
    safe_sin = jnp.where(degenerate, 1.0, jnp.sin(omega))
    w0 = jnp.where(degenerate, 1.0 - t, jnp.sin((1.0 - t) * omega) / safe_sin)
    w1 = jnp.where(degenerate, t, jnp.sin(t * omega) / safe_sin)
    return jax.tree.map(lambda a, b: w0 * a + w1 * b, z0, z1)


METHODS = {'lerp': lerp, 'slerp': slerp}


def interpolate(z0, z1, t, method: Method = 'lerp'):
    """``lerp(z0, z1, t)`` or ``slerp(z0, z1, t)`` by name."""
    if method not in METHODS:
        raise ValueError(f'unknown interpolation {method!r}; choose one of {sorted(METHODS)}')
    return METHODS[method](z0, z1, t)


def path(z0, z1, num: int, method: Method = 'lerp'):
    """``num`` evenly spaced points z(t_k), t_k = k / (num - 1), from z0 to z1 inclusive.

    Every leaf gets a new leading axis of length ``num`` (a batch for ``model.decode``).
    """
    if num < 2:
        raise ValueError(f'a path needs num >= 2 points, got {num}')
    ts = jnp.linspace(0.0, 1.0, num)
    return jax.vmap(lambda t: interpolate(z0, z1, t, method))(ts)


def bilinear(corners, u, v, method: Method = 'lerp'):
    """The point at (u, v) in [0, 1]^2 of the square spanned by four corner latents.

    ``corners = (z00, z01, z10, z11)``: top-left, top-right, bottom-left, bottom-right.
    Interpolate along the top and bottom edges by u, then between them by v:

        z(u, v) = I(I(z00, z01, u), I(z10, z11, u), v),   I = lerp or slerp.

    With ``lerp`` this is the bilinear form (1-u)(1-v) z00 + u(1-v) z01 + (1-u)v z10 + uv z11.
    """
    z00, z01, z10, z11 = corners
    top = interpolate(z00, z01, u, method)
    bottom = interpolate(z10, z11, u, method)
    return interpolate(top, bottom, v, method)


def bilinear_grid(corners, rows: int, cols: int, method: Method = 'lerp'):
    """A ``rows`` x ``cols`` grid of ``bilinear(corners, u_j, v_i)``, u_j = j/(cols-1), v_i = i/(rows-1).

    Every leaf gets a leading axis of length rows * cols in row-major order (row i,
    column j at i * cols + j), so the four corners sit at 0, cols-1, (rows-1)*cols and
    rows*cols-1 and the result decodes as one batch.
    """
    if rows < 2 or cols < 2:
        raise ValueError(f'a bilinear grid needs rows, cols >= 2, got {rows} x {cols}')
    v, u = jnp.meshgrid(jnp.linspace(0.0, 1.0, rows), jnp.linspace(0.0, 1.0, cols), indexing='ij')
    return jax.vmap(lambda a, b: bilinear(corners, a, b, method))(u.ravel(), v.ravel())


def resample_levels(key, latents, levels, temperature: float = 1.0):
    """Replace the latents of the given ``levels`` by fresh draws from the prior N(0, T^2 I).

    ``latents`` is a batched list as ``model.apply(v, x)`` returns it; entry i is kept
    unless i is in ``levels`` (negative indices count from the end), where it becomes
    T * eps, eps ~ N(0, I).  In Glow, entry 0 is factored out first and holds the finest
    detail; the last entry is the top of the hierarchy, the coarsest.  Decoding the
    result shows what that level controls.
    """
    n = len(latents)
    chosen = {i % n for i in levels}
    keys = jax.random.split(key, n)
    return [
        temperature * jax.random.normal(k, z.shape, z.dtype) if i in chosen else z
        for i, (k, z) in enumerate(zip(keys, latents))
    ]
