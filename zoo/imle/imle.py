"""IMLE, GLO and the distances they match with.

    IMLE   L = (1/M) sum_i min_j d(x_i, G(z_j)): every data point pulls its nearest generated
           sample towards itself, so no mode is dropped (Li & Malik 2018, "Implicit Maximum
           Likelihood Estimation", sec. 3)
    GLO    min_{G, z_i in S^{d-1}} sum_i d(x_i, G(z_i)): one free latent per training image,
           projected back onto the unit sphere after each step (Bojanowski et al. 2018,
           "Optimizing the Latent Space of Generative Networks", sec. 3)
    GLANN  GLO, then IMLE in latent space: a mapper T learns noise -> GLO latents (Hoshen, Li &
           Malik 2019, "Non-Adversarial Image Synthesis with Generative Latent Nearest
           Neighbors", sec. 3)

The matching in IMLE is a nearest-neighbour search over a pool of samples; it is done in
chunks of the pool with a running minimum (``nearest_neighbours``), so a pool of any size
needs memory for only (queries x chunk) distances.  Distances are pluggable:

    'l2'         d(x, y) = |x - y|^2 over pixels
    'laplacian'  d(x, y) = sum_j 2^{2j} |L^j(x) - L^j(y)|_1 (GLO's Lap1, Bojanowski et al. 2018,
                 eq. 3), L^j the j-th band of a Laplacian pyramid (2x2 average pooling
                 down, nearest-neighbour up; the last level is the low-pass residual)

Both are a feature map phi and a metric on features, so a pool's features are computed once.
No pretrained network is involved (no downloads).
"""

import functools

import jax
import jax.numpy as jnp

DISTANCES = ('l2', 'laplacian')


def laplacian_pyramid(x: jax.Array, levels: int) -> list[jax.Array]:
    """[L^0(x), ..., L^{levels-1}(x), low-pass] for NHWC images with H, W divisible by 2^levels.

    L^j = g_j - up(g_{j+1}),  g_0 = x,  g_{j+1} = avgpool_2x2(g_j); the last entry is g_levels,
    so sum_j up^j(L^j) + up^levels(g_levels) = x exactly.
    """
    h, w = x.shape[1:3]
    if h % 2**levels or w % 2**levels:
        raise ValueError(f'a {levels}-level Laplacian pyramid needs image sides divisible by {2**levels}, got {h}x{w}')
    bands, g = [], x
    for _ in range(levels):
        n, hh, ww, c = g.shape
        coarse = g.reshape(n, hh // 2, 2, ww // 2, 2, c).mean(axis=(2, 4))
        up = jnp.repeat(jnp.repeat(coarse, 2, axis=1), 2, axis=2)
        bands.append(g - up)
        g = coarse
    return bands + [g]


def features(x: jax.Array, distance: str = 'l2', levels: int = 3) -> jax.Array:
    """phi(x), (N, F): the flat image ('l2') or the 2^{2j}-weighted pyramid bands ('laplacian')."""
    if distance == 'l2':
        return x.reshape(x.shape[0], -1)
    if distance == 'laplacian':
        bands = laplacian_pyramid(x, levels)
        return jnp.concatenate([4.0**j * b.reshape(b.shape[0], -1) for j, b in enumerate(bands)], axis=1)
    raise ValueError(f'unknown distance {distance!r}; choose one of {DISTANCES}')


def paired_distance(fa: jax.Array, fb: jax.Array, distance: str = 'l2') -> jax.Array:
    """d between row i of ``fa`` and row i of ``fb`` (features): (N,)."""
    diff = fa - fb
    return jnp.sum(jnp.square(diff), axis=1) if distance == 'l2' else jnp.sum(jnp.abs(diff), axis=1)


def pairwise_distances(fa: jax.Array, fb: jax.Array, distance: str = 'l2') -> jax.Array:
    """d between every row of ``fa`` (Q, F) and every row of ``fb`` (C, F): (Q, C).

    Squared L2 as |a|^2 - 2 a.b + |b|^2 (a matrix product); L1 by broadcasting.
    """
    if distance == 'l2':
        sq = jnp.sum(jnp.square(fa), 1)[:, None] - 2.0 * fa @ fb.T + jnp.sum(jnp.square(fb), 1)[None, :]
        return jnp.maximum(sq, 0.0)
    return jnp.sum(jnp.abs(fa[:, None, :] - fb[None, :, :]), axis=2)


@functools.partial(jax.jit, static_argnames=('distance', 'chunk_size'))
def nearest_neighbours(
    queries: jax.Array, pool: jax.Array, distance: str = 'l2', chunk_size: int = 1024
) -> tuple[jax.Array, jax.Array]:
    """For each query row, the index of its nearest pool row and the distance: ((Q,), (Q,)).

    The pool is scanned in chunks of ``chunk_size`` rows with a running minimum, so memory
    is O(Q x chunk) whatever the pool's size; ties go to the lower index, as ``argmin``'s.
    Rows are features (``features``); nothing here is differentiated (IMLE's matching is a
    constant of the loss).
    """
    queries, pool = jax.lax.stop_gradient(queries), jax.lax.stop_gradient(pool)
    num = pool.shape[0]
    chunk = min(chunk_size, num)
    pad = -num % chunk
    chunks = jnp.pad(pool, ((0, pad), (0, 0))).reshape(-1, chunk, pool.shape[1])

    def scan_chunk(best, inputs):
        k, rows = inputs
        d = pairwise_distances(queries, rows, distance)
        d = jnp.where(k * chunk + jnp.arange(chunk) < num, d, jnp.inf)  # padding rows never win
        j = jnp.argmin(d, axis=1)
        d_min = jnp.take_along_axis(d, j[:, None], axis=1)[:, 0]
        better = d_min < best[1]
        index = (k * chunk + j).astype(best[0].dtype)
        return (jnp.where(better, index, best[0]), jnp.where(better, d_min, best[1])), None

    start = (jnp.zeros(queries.shape[0], jnp.int32), jnp.full(queries.shape[0], jnp.inf, queries.dtype))
    (index, dist), _ = jax.lax.scan(scan_chunk, start, (jnp.arange(chunks.shape[0]), chunks))
    return index, dist


def imle_loss(
    x: jax.Array, samples: jax.Array, distance: str = 'l2', levels: int = 3, chunk_size: int = 1024
) -> tuple[jax.Array, jax.Array]:
    """(L, matches): L = (1/M) sum_i d(x_i, s_{j(i)}), j(i) = argmin_j d(x_i, s_j) (Li & Malik 2018).

    ``x`` (M, ...) are data, ``samples`` (P, ...) generated (P >= M in IMLE); the gradient
    flows into the matched samples only.  Images (N, H, W, C) or vectors (N, D) (latents;
    then only 'l2' applies).
    """
    fx, fs = _features(x, distance, levels), _features(samples, distance, levels)
    matches, _ = nearest_neighbours(fx, fs, distance, chunk_size)
    return jnp.mean(paired_distance(fx, fs[matches], distance)), matches


def _features(x, distance, levels):
    if x.ndim == 2:
        if distance != 'l2':
            raise ValueError(f'the {distance!r} distance needs images (N, H, W, C), got vectors {x.shape}')
        return x
    return features(x, distance, levels)


def project_to_sphere(z: jax.Array, eps: float = 1e-12) -> jax.Array:
    """z / |z| row-wise: GLO's latents live on the unit sphere S^{d-1}."""
    return z / jnp.maximum(jnp.linalg.norm(z, axis=-1, keepdims=True), eps)


def init_latents(key: jax.Array, num: int, dim: int) -> jax.Array:
    """``num`` latents uniform on S^{dim-1} (normalised Gaussians)."""
    return project_to_sphere(jax.random.normal(key, (num, dim)))


def sphere_sgd(latents: jax.Array, rows: jax.Array, grads: jax.Array, lr) -> jax.Array:
    """z_i <- (z_i - lr g_i) / |z_i - lr g_i| for the rows updated this step (GLO's projected SGD)."""
    return latents.at[rows].set(project_to_sphere(latents[rows] - lr * grads))
