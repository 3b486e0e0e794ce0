"""The multi-scale architecture of RealNVP and Glow, written once.

    x -> level_0 -> split (z_0 out) -> level_1 -> split (z_1 out) -> ... -> level_{L-1} -> z_{L-1}

Each split factors half of the channels out as a latent (Dinh et al. 2016, sec. 3.6);
the inverse runs the levels backwards, re-attaching each latent where it left.
``run_level(s, x, inverse) -> (x, log_det)`` is the model's level s (its squeeze and
steps of flow); ``splits[s]`` is the ``Split`` after level s.
"""

import jax


def multiscale_forward(run_level, splits, x: jax.Array, num_levels: int):
    """x -> (latents, log|det|): one latent per split, plus what the last level outputs."""
    latents, log_det = [], 0.0
    for s in range(num_levels):
        x, ld = run_level(s, x, False)
        log_det += ld
        if s < num_levels - 1:
            x, z, ld = splits[s](x)
            latents.append(z)
            log_det += ld
    return latents + [x], log_det


def multiscale_inverse(run_level, splits, latents: list):
    """latents -> (x, log|det|), the inverse of ``multiscale_forward``."""
    x, log_det = latents[-1], 0.0
    for s in reversed(range(len(latents))):
        if s < len(latents) - 1:
            x, ld = splits[s](x, latents[s], inverse=True)
            log_det += ld
        x, ld = run_level(s, x, True)
        log_det += ld
    return x, log_det
