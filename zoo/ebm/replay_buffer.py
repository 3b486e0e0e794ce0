"""The replay buffer of past Langevin samples (Du & Mordatch 2019, sec. 3.1).

Short Langevin chains started from noise do not mix; IGEBM starts most chains where
earlier chains ended.  The buffer is a fixed-size array of samples that lives in
``TrainState.aux`` (so orbax checkpoints it with everything else):

    x0_i = buffer[j_i]  with probability p (0.95),  else  x0_i ~ U[low, high]^D
    after K Langevin steps, buffer[j_i] <- x_K,i

The j_i are distinct (drawn without replacement), so writing back is a plain scatter
with no collisions and the buffer keeps its size.  It starts as uniform noise, the
state an empty IGEBM buffer would be filled from.
"""

import jax
import jax.numpy as jnp


def init_buffer(
    key: jax.Array, size: int, sample_shape: tuple, low: float = 0.0, high: float = 1.0, dtype=jnp.float32
) -> jax.Array:
    """A buffer of ``size`` uniform-noise samples of shape ``sample_shape``."""
    if size < 1:
        raise ValueError(f'buffer size must be >= 1, got {size}')
    return jax.random.uniform(key, (size, *sample_shape), dtype, low, high)


def draw(
    buffer: jax.Array, key: jax.Array, batch_size: int, reuse_prob: float = 0.95, low: float = 0.0, high: float = 1.0
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Chain starts: (x0, slots, reused).

    ``slots`` are ``batch_size`` distinct buffer indices (where ``store`` writes the
    chains' ends); ``reused[i]`` says whether x0_i came from ``buffer[slots[i]]``
    (probability ``reuse_prob``) or is fresh U[low, high] noise.
    """
    if batch_size > buffer.shape[0]:
        raise ValueError(
            f'cannot draw {batch_size} chains from a buffer of {buffer.shape[0]} samples; '
            f'make the buffer at least as large as the batch'
        )
    if isinstance(reuse_prob, (int, float)) and not 0.0 <= reuse_prob <= 1.0:
        raise ValueError(f'reuse_prob must be in [0, 1], got {reuse_prob}')
    k_slots, k_reuse, k_noise = jax.random.split(key, 3)
    slots = jax.random.choice(k_slots, buffer.shape[0], (batch_size,), replace=False)
    reused = jax.random.bernoulli(k_reuse, reuse_prob, (batch_size,))
    noise = jax.random.uniform(k_noise, (batch_size, *buffer.shape[1:]), buffer.dtype, low, high)
    x0 = jnp.where(reused.reshape((-1,) + (1,) * (buffer.ndim - 1)), buffer[slots], noise)
    return x0, slots, reused


def store(buffer: jax.Array, slots: jax.Array, samples: jax.Array) -> jax.Array:
    """``buffer`` with ``samples`` written at ``slots`` (the chains' ends back where they began)."""
    if samples.shape[1:] != buffer.shape[1:] or samples.shape[0] != slots.shape[0]:
        raise ValueError(
            f'cannot store samples of shape {samples.shape} at {slots.shape[0]} slots '
            f'of a buffer of shape {buffer.shape}'
        )
    return buffer.at[slots].set(jax.lax.stop_gradient(samples).astype(buffer.dtype))
