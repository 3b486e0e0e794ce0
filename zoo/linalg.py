"""Linear-algebra primitives used by flows: matrix volume, rank-one exponentials, Householder maps."""

import jax
import jax.numpy as jnp


def random_rotation(key: jax.Array, n: int, dtype=jnp.float32) -> jax.Array:
    """A random orthogonal n x n matrix: Q from the QR decomposition of a Gaussian matrix.

    Glow (Kingma & Dhariwal 2018, sec. 3.2) initialises the invertible 1x1 convolution
    this way, so |det W| = 1 and the layer starts volume-preserving.  The sign fix
    (Q <- Q diag(sign(diag R))) makes Q Haar-distributed (Mezzadri 2007).
    """
    q, r = jnp.linalg.qr(jax.random.normal(key, (n, n), dtype))
    return q * jnp.sign(jnp.diag(r))[None, :]


def log_abs_det(w: jax.Array) -> jax.Array:
    """log |det W| through an LU factorisation with partial pivoting (``slogdet``).

    Pivoted LU keeps float32 accurate for the well-conditioned matrices a flow uses:
    the log-det is a sum of log|u_ii| rather than the log of a product that may
    under- or overflow.  Its gradient is W^{-T}.
    """
    return jnp.linalg.slogdet(w)[1]


# ---------------------------------------------------------------- spectral norm


def _normalize(x: jax.Array, eps: float = 1e-12) -> jax.Array:
    return x / (jnp.sqrt(jnp.sum(x * x)) + eps)


def operator_spectral_norm(apply, apply_transpose, u: jax.Array, num_iters: int = 1):
    """Largest singular value of a linear operator A by power iteration (Miyato et al. 2018).

        v <- A^T u / |A^T u|,   u <- A v / |A v|,   sigma = u^T A v

    ``apply`` is x -> A x, ``apply_transpose`` is y -> A^T y; ``u`` lives in A's range
    (any shape) and is the state carried between calls.  Returns ``(sigma, u_new)``.
    u and v are treated as constants (stop_gradient), so d sigma / dA = u v^T, the
    gradient of the true sigma at convergence.  One iteration per training step is
    enough because the weights move slowly and u is carried over.
    """
    if num_iters < 1:
        raise ValueError(f'num_iters must be >= 1, got {num_iters}')

    def step(u, _):
        v = _normalize(apply_transpose(u))
        return _normalize(apply(v)), v

    u, vs = jax.lax.scan(step, jax.lax.stop_gradient(u), None, length=num_iters)
    u, v = jax.lax.stop_gradient(u), jax.lax.stop_gradient(vs[-1])
    return jnp.sum(u * apply(v)), u


def spectral_norm(w: jax.Array, u: jax.Array, num_iters: int = 1):
    """sigma(W) = max |W v| / |v| of a dense m x n matrix W, by power iteration from u in R^m.

    Returns ``(sigma, u_new)``; see ``operator_spectral_norm``.  For a Flax kernel K
    of shape (in, out) used as y = x K, pass W = K^T (the same singular values).
    """
    if w.ndim != 2:
        raise ValueError(f'spectral_norm needs a matrix, got shape {w.shape}')
    if u.shape != (w.shape[0],):
        raise ValueError(f'u must have shape ({w.shape[0]},) for W of shape {w.shape}, got {u.shape}')
    return operator_spectral_norm(lambda v: w @ v, lambda y: w.T @ y, u, num_iters)


def conv_operator(kernel: jax.Array, input_shape, strides=(1, 1), padding='SAME'):
    """The 2-D convolution x -> conv(x, K) on one (H, W, C_in) image, and its transpose.

    The transpose comes from ``jax.linear_transpose`` of the convolution itself, so
    power iteration through the pair gives the operator norm of the convolution,
    not of the reshaped (kh kw C_in, C_out) kernel (the two differ: Gouk et al. 2018;
    Behrmann et al. 2019, sec. 3).  ``kernel`` is HWIO.
    """
    if kernel.ndim != 4 or len(input_shape) != 3 or input_shape[-1] != kernel.shape[2]:
        raise ValueError(
            f'conv_operator needs an HWIO kernel and an (H, W, C_in) input with matching '
            f'channels, got kernel {kernel.shape} and input {tuple(input_shape)}'
        )

    def apply(x):
        y = jax.lax.conv_general_dilated(
            x[None],
            kernel,
            tuple(strides),
            padding,
            dimension_numbers=('NHWC', 'HWIO', 'NHWC'),
            precision=jax.lax.Precision.HIGHEST,
        )
        return y[0]

    x0 = jax.ShapeDtypeStruct(tuple(input_shape), kernel.dtype)
    transpose = jax.linear_transpose(apply, x0)
    return apply, lambda y: transpose(y)[0]


def conv_spectral_norm(
    kernel: jax.Array, u: jax.Array, input_shape, strides=(1, 1), padding='SAME', num_iters: int = 1
):
    """Operator norm of a 2-D convolution on (H, W, C_in) inputs; u has the output's shape.

    Returns ``(sigma, u_new)`` (see ``operator_spectral_norm`` and ``conv_operator``).
    """
    apply, apply_transpose = conv_operator(kernel, input_shape, strides, padding)
    out_shape = jax.eval_shape(apply, jax.ShapeDtypeStruct(tuple(input_shape), kernel.dtype)).shape
    if u.shape != out_shape:
        raise ValueError(f'u must have the convolution output shape {out_shape}, got {u.shape}')
    return operator_spectral_norm(apply, apply_transpose, u, num_iters)


# ---------------------------------------------------------------- volumes and log-dets


def _gram(b: jax.Array) -> jax.Array:
    if b.ndim != 2:
        raise ValueError(f'volume needs a matrix, got shape {b.shape}')
    return b.T @ b if b.shape[0] >= b.shape[1] else b @ b.T


def log_volume(b: jax.Array) -> jax.Array:
    """log vol(B) = 1/2 log det(B^T B) for tall B (n x k, n >= k); B B^T for wide B.

    The k-dimensional volume of the parallelotope B spans: the |det| of a square
    matrix generalised to dimension-changing (injective) maps (Ben-Israel 1999, "The change of variables formula using
    matrix volume").
    """
    return 0.5 * jnp.linalg.slogdet(_gram(b))[1]


def volume(b: jax.Array) -> jax.Array:
    """vol(B) = sqrt(det(B^T B)) (tall B) or sqrt(det(B B^T)) (wide B)."""
    return jnp.exp(log_volume(b))


def log_det_exp(a: jax.Array) -> jax.Array:
    """log det exp(A) = tr(A), since det exp(A) = exp(tr A) (Jacobi's formula).

    Exact and O(n): why W = exp(A) makes a 1x1 convolution with a free log-det that
    is invertible for every A (exp(A)^{-1} = exp(-A)).
    """
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f'log_det_exp needs a square matrix, got shape {a.shape}')
    return jnp.trace(a)


def log1p_series(a: jax.Array, num_terms: int) -> jax.Array:
    """ln(I + A) ~ sum_{k=1}^{n} (-1)^{k+1} A^k / k, converging when |A|_2 < 1.

    The matrix form of the power series the i-ResNet log-det truncates
    (Behrmann et al. 2019, eq. 6); tr of it is ln det(I + A).  The caller keeps
    |A|_2 < 1: under jit the condition cannot be checked.
    """
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f'log1p_series needs a square matrix, got shape {a.shape}')
    if num_terms < 1:
        raise ValueError(f'num_terms must be >= 1, got {num_terms}')

    def term(power, k):
        power = power @ -a  # (-1)^{k+1} A^k = -(-A)^k, no float powers of -1
        return power, -power / k

    ks = jnp.arange(1, num_terms + 1, dtype=a.dtype)
    _, terms = jax.lax.scan(term, jnp.eye(a.shape[0], dtype=a.dtype), ks)
    return jnp.sum(terms, axis=0)


# ---------------------------------------------------------------- exp(x y^T)


def _expm1_ratio(s: jax.Array) -> jax.Array:
    """(e^s - 1) / s, equal to 1 at s = 0 (the safe-where keeps gradients finite there)."""
    small = jnp.abs(s) < 1e-6
    s_safe = jnp.where(small, 1.0, s)
    return jnp.where(small, 1.0 + s / 2, jnp.expm1(s_safe) / s_safe)


def exp_rank_one(x: jax.Array, y: jax.Array) -> jax.Array:
    """exp(x y^T) = I + x y^T (e^<x,y> - 1) / <x,y>   (ratio 1 at <x,y> = 0).

    Closed form because (x y^T)^k = <x,y>^{k-1} x y^T.  det = e^<x,y> and the
    inverse is exp(-x y^T) (see ``exp_rank_one_apply``).
    """
    s = jnp.dot(x, y)
    return jnp.eye(x.shape[0], dtype=x.dtype) + jnp.outer(x, y) * _expm1_ratio(s)


def exp_rank_one_apply(x: jax.Array, y: jax.Array, z: jax.Array, inverse: bool = False) -> jax.Array:
    """z exp(x y^T)^T row-wise, i.e. exp(x y^T) z for each row z, in O(n) per row.

    Inverse: exp(x y^T)^{-1} = exp(-x y^T) = I - x y^T (1 - e^-<x,y>) / <x,y>.
    ``z`` has shape (..., n).
    """
    sign = -1.0 if inverse else 1.0
    s = jnp.dot(x, y)
    return z + sign * (z @ y)[..., None] * x * _expm1_ratio(sign * s)


def log_det_exp_rank_one(x: jax.Array, y: jax.Array) -> jax.Array:
    """log det exp(x y^T) = tr(x y^T) = <x, y>."""
    return jnp.dot(x, y)


# ---------------------------------------------------------------- orthogonal maps between unit vectors


def _close_tolerance(dtype) -> float:
    """|a - b| below which a reflection a -> b is less accurate than the identity.

    For unit a, b stored in a float type, |a|^2 - |b|^2 is off by about eps, and the reflection
    with v = (a - b) / |a - b| sends a to b plus (|b|^2 - |a|^2) / |a - b| along v (an error of
    eps / |a - b|), while the identity is |a - b| from b.  The two meet at sqrt(eps): about 3e-4
    in float32, 1.5e-8 in float64, where neither is worse than that.
    """
    return float(jnp.sqrt(jnp.finfo(dtype).eps))


def householder_vector(a: jax.Array, b: jax.Array) -> jax.Array:
    """v = (a - b) / |a - b|: the reflection I - 2 v v^T maps unit a to unit b (Householder 1958).

    Below |a - b| = sqrt(eps) (``_close_tolerance``) it returns 0, the identity, which is then
    closer to b than the reflection rounding allows; so H a is within about sqrt(eps) of b
    for every pair.  Both the division and the square root are guarded, so the gradient is
    finite (zero) at a = b.
    """
    d = a - b
    tol = _close_tolerance(d.dtype)
    squared = jnp.sum(d * d)
    far = squared > tol * tol
    norm = jnp.sqrt(jnp.where(far, squared, 1.0))  # sqrt'(0) is infinite: keep 0 out of it
    return jnp.where(far, d / norm, 0.0)


def householder_apply(v: jax.Array, z: jax.Array) -> jax.Array:
    """(I - 2 v v^T) z for each row z of (..., n), unit v (Householder 1958).  Orthogonal, its own inverse."""
    return z - 2.0 * (z @ v)[..., None] * v


def householder_matrix(v: jax.Array) -> jax.Array:
    """H = I - 2 v v^T for unit v: a reflection, det -1 (0 for v = 0: the identity)."""
    return jnp.eye(v.shape[0], dtype=v.dtype) - 2.0 * jnp.outer(v, v)


def rotation_between(a: jax.Array, b: jax.Array) -> jax.Array:
    """A rotation R (orthogonal, det +1) with R a = b for unit a, b, as a product of two reflections.

        a.b >= 0:  R = H(b) H(a + b)       H(a + b) a = -b, H(b) (-b) = b
        a.b <  0:  R = H(w) H(a - b)       H(a - b) a = b, w orthogonal to b fixes it

    with H(u) = I - 2 u u^T / |u|^2.  Each branch reflects along a vector of length at least
    sqrt(2), so R stays orthogonal to rounding for every pair, b = -a included.  Where w is
    the part of a orthogonal to b, both reflections act in the plane of a and b and R is the
    smallest rotation taking a to b (identity on the rest); near b = -a that part vanishes and
    w is the basis vector least aligned with b, made orthogonal to it, which still maps a to b.
    """
    n = a.shape[0]
    eye = jnp.eye(n, dtype=a.dtype)

    def reflection(u):
        return eye - 2.0 * jnp.outer(u, u) / jnp.sum(u * u)

    def orthogonal_to_b(x):
        for _ in range(2):  # twice: Gram-Schmidt's second pass restores orthogonality to rounding
            x = x - jnp.dot(x, b) * b
        return x

    c = jnp.dot(a, b)
    in_plane = orthogonal_to_b(a)
    axis = orthogonal_to_b(eye[jnp.argmin(jnp.abs(b))])
    w = jnp.where(jnp.sum(in_plane * in_plane) > 0.01, in_plane, axis)
    safe_plus = jnp.where(c >= 0, a + b, eye[0] + 0.0)  # each branch evaluated on a safe vector (gradients)
    safe_minus = jnp.where(c < 0, a - b, eye[0] + 0.0)
    return jnp.where(c >= 0, reflection(b) @ reflection(safe_plus), reflection(w) @ reflection(safe_minus))
