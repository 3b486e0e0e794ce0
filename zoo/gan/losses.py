"""GAN objectives as pure functions of critic scores (and, for O-GAN, codes and images).

Every function takes the critic's raw outputs on real and generated batches and
returns a scalar to *minimise*; which network minimises it is in the name.

    f-GAN     (Nowozin et al. 2016)   critic:    -(E_P[g_f(V)] - E_Q[f*(g_f(V))])
                                      generator: -E_Q[f*(g_f(V))]  (saturating, the minimax game)
                                                 or -E_Q[g_f(V)]   (the paper's sec. 3.2 heuristic)
    WGAN      (Arjovsky et al. 2017)  critic:    E_Q[D] - E_P[D];     generator: -E_Q[D]
    hinge     (Lim & Ye 2017; Miyato et al. 2018)
                                      critic:    E_P[max(0, 1 - D)] + E_Q[max(0, 1 + D)];  generator: -E_Q[D]
    O-GAN     (Su 2019)               Pearson correlation of z and E(G(z)), GAN-QP penalty (Su 2018)

Which functions make up each game, and how the one-loss GAN trains both networks with
one loss, is in ``zoo.gan.games``.  Lipschitz constraints (gradient penalty, spectral
normalisation) are in ``zoo.lipschitz``.
"""

import jax
import jax.numpy as jnp

from zoo.gan.divergences import FDivergence, variational_bound_from_logits

GENERATOR_OBJECTIVES = ('saturating', 'non_saturating')
PAIR_DISTANCES = ('l1', 'l2_squared')


def fgan_critic_loss(divergence: FDivergence, v_real, v_fake):
    """-F(theta, omega) = -(E_P[g_f(V(x))] - E_Q[f*(g_f(V(x)))]) (Nowozin et al. 2016, eq. 6).

    Minimising it maximises the variational lower bound on D_f(P_data || Q_theta),
    so at the optimum -loss estimates the divergence.
    """
    return -variational_bound_from_logits(divergence, v_real, v_fake)


def fgan_generator_loss(divergence: FDivergence, v_fake, objective: str = 'non_saturating'):
    """The generator's side of eq. 6.

    'saturating':     E_P[...] does not depend on theta, so min_theta F = min -E_Q[f*(g_f(V))].
    'non_saturating': -E_Q[g_f(V)], the paper's sec. 3.2 alternative (for the GAN row it is
                      Goodfellow et al.'s -log D trick), with stronger gradients early on.
    """
    if objective == 'saturating':
        return -jnp.mean(divergence.conjugate_of_activation(v_fake))
    if objective == 'non_saturating':
        return -jnp.mean(divergence.activation(v_fake))
    raise ValueError(f'unknown generator objective {objective!r}; choose one of {GENERATOR_OBJECTIVES}')


def wgan_critic_loss(d_real, d_fake):
    """E_Q[D] - E_P[D]: minus the Kantorovich-Rubinstein estimate of W_1 (needs Lip(D) <= 1)."""
    return jnp.mean(d_fake) - jnp.mean(d_real)


def wgan_generator_loss(d_fake):
    """-E_Q[D(G(z))] (the theta-dependent part of the WGAN objective)."""
    return -jnp.mean(d_fake)


def hinge_critic_loss(d_real, d_fake):
    """E_P[max(0, 1 - D)] + E_Q[max(0, 1 + D)]: real scores pushed above 1, fake below -1."""
    return jnp.mean(jax.nn.relu(1.0 - d_real)) + jnp.mean(jax.nn.relu(1.0 + d_fake))


def hinge_generator_loss(d_fake):
    """-E_Q[D(G(z))], as in SN-GAN (Miyato et al. 2018, eq. 17)."""
    return -jnp.mean(d_fake)


def pearson_correlation(a, b, eps: float = 1e-8):
    """rho(a_i, b_i) for each row i: the cosine of the row-centred vectors, shape (N,).

    O-GAN (Su 2019, eq. 7) correlates the prior draw z with the code E(G(z)); the
    correlation, unlike a squared error, ignores the code's mean and scale, which are
    left free for the discriminator score D(x) = mean(E(x)).
    """
    a = a - jnp.mean(a, axis=-1, keepdims=True)
    b = b - jnp.mean(b, axis=-1, keepdims=True)
    norms = jnp.linalg.norm(a, axis=-1) * jnp.linalg.norm(b, axis=-1)
    return jnp.sum(a * b, axis=-1) / (norms + eps)


def gan_qp_penalty(t_real, t_fake, distance, weight: float = 10.0):
    """E[(T(x_r) - T(x_f))^2 / (2 lambda d(x_r, x_f))]: GAN-QP's quadratic potential (Su 2018, eq. 20).

    ``distance`` is d(x_r, x_f) per pair, shape (N,) (``pair_distance``).  GAN-QP's
    experiments use lambda d = 10 mean|x_r - x_f|; Su's O-GAN reference code (Keras,
    github.com/bojone/o-gan, 2019) uses 0.25 (T_r - T_f)^2 / mean (x_r - x_f)^2, i.e.
    lambda = 2 with 'l2_squared'.
    The critic maximising E[T_r - T_f] minus this penalty gets a Lipschitz-like
    constraint |T_r - T_f| <~ lambda d without weight clipping or double backprop.
    """
    return jnp.mean(jnp.square(t_real - t_fake) / (2.0 * weight * distance))


def pair_distance(x_real, x_fake, kind: str = 'l1'):
    """d(x_r, x_f) per pair, shape (N,): mean |x_r - x_f| ('l1', GAN-QP's default) or mean (x_r - x_f)^2
    ('l2_squared', Su's O-GAN reference code); floored so the penalty never divides by 0."""
    diff = (x_real - x_fake).reshape(x_real.shape[0], -1)
    if kind == 'l1':
        d = jnp.mean(jnp.abs(diff), axis=1)
    elif kind == 'l2_squared':
        d = jnp.mean(jnp.square(diff), axis=1)
    else:
        raise ValueError(f'unknown GAN-QP distance {kind!r}; choose one of {PAIR_DISTANCES}')
    return jnp.maximum(d, 1e-6)


def ogan_score(codes):
    """D(x) = mean over the nz code dimensions of E(x) (O-GAN's discriminator from an encoder)."""
    return jnp.mean(codes, axis=-1)


def ogan_critic_loss(codes_real, codes_fake, z, distance, qp_weight: float = 10.0, corr_weight: float = 0.5):
    """The encoder's GAN-QP loss plus -lambda rho(z, E(G(z))) (Su 2019, eq. 8; Su's reference code).

    L_E = E[D(G(z)) - D(x)] + E[(D(x) - D(G(z)))^2 / (2 w d(x, G(z)))] - lambda E[rho(z, E(G(z)))]
    """
    t_real, t_fake = ogan_score(codes_real), ogan_score(codes_fake)
    return (
        jnp.mean(t_fake - t_real)
        + gan_qp_penalty(t_real, t_fake, distance, qp_weight)
        - corr_weight * jnp.mean(pearson_correlation(z, codes_fake))
    )


def ogan_generator_loss(codes_fake, z, corr_weight: float = 0.5):
    """L_G = -E[D(G(z))] - lambda E[rho(z, E(G(z)))] (Su 2019, eq. 8; GAN-QP's generator loss).

    The paper writes E[D(x) - D(G(z))]; E[D(x)] does not depend on the generator (its
    gradient is 0), so it is left out and the real batch need not be scored.
    """
    return -jnp.mean(ogan_score(codes_fake)) - corr_weight * jnp.mean(pearson_correlation(z, codes_fake))


def normalize_code(codes, eps: float = 1e-8):
    """(e - mean(e)) / std(e) per row, so E(x)'s code looks like a N(0, I) draw for G (O-GAN's reconstruction)."""
    centred = codes - jnp.mean(codes, axis=-1, keepdims=True)
    return centred / jnp.sqrt(jnp.mean(jnp.square(centred), axis=-1, keepdims=True) + eps)
