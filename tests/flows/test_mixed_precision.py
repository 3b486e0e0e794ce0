"""Mixed precision: Glow with bfloat16 coupling networks keeps float32 params, latents,
log-dets and losses, stays invertible to bf16 accuracy, and barely moves bits/dim."""

import functools

import jax
import jax.numpy as jnp
import numpy as np

from tests.flows.checks import init_perturbed
from zoo import images
from zoo.flows import Glow

KEY = jax.random.key(0)


@functools.cache  # initialising compiles; share one model across tests
def glows():
    f32 = Glow(image_shape=(8, 8, 1), num_levels=17, scales=1, flow_steps=2, hidden=16, permutation='lu')
    pixels = jax.random.randint(jax.random.key(1), (8, 8, 8, 1), 0, 17)
    # Perturbed so the zero-initialised coupling outputs are not trivially zero.
    v = init_perturbed(f32, images.dequantize(KEY, pixels, 17), KEY, 0.05)
    return f32, f32.clone(compute_dtype=jnp.bfloat16), v, pixels


def test_bf16_uses_the_same_float32_params():
    f32, bf16, v, pixels = glows()
    x = images.dequantize(KEY, pixels, 17)
    shapes = jax.eval_shape(bf16.init, KEY, x)
    assert jax.tree.structure(shapes) == jax.tree.structure(v)
    assert all(s.dtype == p.dtype for s, p in zip(jax.tree.leaves(shapes), jax.tree.leaves(v)))


def test_bf16_is_finite_invertible_and_close_to_float32():
    f32, bf16, v, pixels = glows()

    @jax.jit
    def run(v, pixels):
        x = images.dequantize(KEY, pixels, 17)
        latents, log_det = bf16.apply(v, x)
        x_back = bf16.apply(v, latents, method=bf16.decode)
        bpd = lambda m: lambda p: jnp.mean(m.apply({**v, 'params': p}, pixels, KEY, method=m.bits_per_dim))
        loss, grads = jax.value_and_grad(bpd(bf16))(v['params'])
        return x, latents, log_det, x_back, loss, grads, bpd(f32)(v['params'])

    x, latents, log_det, x_back, loss, grads, loss32 = run(v, pixels)
    for a in [*latents, log_det, loss, *jax.tree.leaves(grads)]:
        assert a.dtype == jnp.float32 and jnp.all(jnp.isfinite(a))
    # bf16 has an 8-bit mantissa: the inverse recomputes the conditioner's shift/scale
    # from a slightly different input, which can flip a bf16 rounding (~0.4% relative).
    np.testing.assert_allclose(x_back, x, atol=1e-2)
    # Drift in bits/dim (about 4.4 here): small, but not zero, so bf16 really ran.
    assert 0 < abs(float(loss) - float(loss32)) < 1e-2, (loss, loss32)
