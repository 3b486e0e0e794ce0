"""The multi-scale architecture of RealNVP and Glow, written once.

    x -> level_0 -> split (z_0 out) -> level_1 -> split (z_1 out) -> ... -> level_{L-1} -> z_{L-1}

Each split factors half of the channels out as a latent (Dinh et al. 2016, sec. 3.6);
the inverse runs the levels backwards, re-attaching each latent where it left.
``run_level(s, x, inverse) -> (x, log_det)`` is the model's level s (its squeeze and
steps of flow); ``splits[s]`` is the ``Split`` after level s.  A ``context`` (N, K) is
passed to both as ``context=`` (left out when None, so models without one need no such
argument).
"""

import jax


def multiscale_forward(run_level, splits, x: jax.Array, num_levels: int, context=None):
    """x -> (latents, log|det|): one latent per split, plus what the last level outputs."""
    kw = {} if context is None else {'context': context}
    latents, log_det = [], 0.0
    for s in range(num_levels):
        x, ld = run_level(s, x, False, **kw)
        log_det += ld
        if s < num_levels - 1:
            x, z, ld = splits[s](x, **kw)
            latents.append(z)
            log_det += ld
    return latents + [x], log_det


def multiscale_inverse(run_level, splits, latents: list, context=None):
    """latents -> (x, log|det|), the inverse of ``multiscale_forward``."""
    kw = {} if context is None else {'context': context}
    x, log_det = latents[-1], 0.0
    for s in reversed(range(len(latents))):
        if s < len(latents) - 1:
            x, ld = splits[s](x, latents[s], inverse=True, **kw)
            log_det += ld
        x, ld = run_level(s, x, True, **kw)
        log_det += ld
    return x, log_det
