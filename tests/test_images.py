"""Pixels <-> flow space: dequantisation stays in each pixel's bin, to_pixels inverts, bad input is refused."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from zoo import images


def test_dequantize_stays_in_the_bin_and_to_pixels_inverts_it():
    pixels = jnp.arange(17, dtype=jnp.uint8).reshape(1, 17, 1, 1).repeat(50, axis=0)
    x = images.dequantize(jax.random.key(0), pixels, 17)
    assert x.dtype == jnp.float32 and float(x.min()) >= -0.5 and float(x.max()) < 0.5
    lower = pixels / 17 - 0.5
    assert bool(jnp.all((x >= lower) & (x < lower + 1 / 17)))
    np.testing.assert_array_equal(images.to_pixels(x, 17), pixels)
    np.testing.assert_array_equal(images.to_pixels(images.center(pixels, 17), 17), pixels)
    # The noise is uniform over the bin: its mean is the bin's centre.
    np.testing.assert_allclose(jnp.mean(x - images.center(pixels, 17)), 0.0, atol=2e-3)


def test_to_pixels_clips_out_of_range_values():
    np.testing.assert_array_equal(images.to_pixels(jnp.array([-3.0, 0.0, 3.0]), 256), [0, 128, 255])


# --- [-1, 1] (GANs) -----------------------------------------------------------------------------


def test_to_signed_maps_black_and_white_to_minus_1_and_1_and_signed_to_pixels_inverts_it():
    pixels = jnp.arange(17, dtype=jnp.uint8).reshape(1, 17, 1, 1)
    x = images.to_signed(pixels, 17)
    assert x.dtype == jnp.float32 and float(x.min()) == -1.0 and float(x.max()) == 1.0
    np.testing.assert_allclose(jnp.diff(x.ravel()), 2 / 16, rtol=1e-6)
    np.testing.assert_array_equal(images.signed_to_pixels(x, 17), pixels)
    # A tanh output within half a level of p decodes to p; outside [-1, 1] it clips.
    half = 1 / 16
    np.testing.assert_array_equal(
        images.signed_to_pixels(jnp.array([-3.0, -1.0 + 0.99 * half, -1.0 + 1.01 * half, 1.0 - 0.99 * half, 3.0]), 17),
        [0, 0, 1, 16, 16],
    )
    with pytest.raises(TypeError, match='integer array'):
        images.to_signed(np.zeros(2, np.float32), 17)


def test_bad_pixels_are_refused_where_they_are_concrete():
    with pytest.raises(TypeError, match='integer array'):
        images.dequantize(jax.random.key(0), np.zeros((2, 2), np.float32), 17)
    with pytest.raises(ValueError, match=r'in \[0, 17\).*got values in \[0, 200\]'):
        images.center(np.array([0, 200], np.uint8), 17)
    with pytest.raises(ValueError, match=r'got values in \[-1, 3\]'):
        images.check_pixels(np.array([-1, 3]), 17)
    # Under jit the values are unknown: no error, by design (documented in check_pixels).
    jax.jit(lambda p: images.center(p, 17))(jnp.array([0, 200], jnp.uint8))


# --- [0, 1] ranges ------------------------------------------------------------------------------

ALL_LEVELS = jnp.arange(17, dtype=jnp.uint8).reshape(1, 17, 1, 1).repeat(50, axis=0)


def test_to_unit_stays_in_the_bin_and_unit_to_pixels_inverts_it():
    x = images.to_unit(ALL_LEVELS, 17, jax.random.key(0))
    lower = ALL_LEVELS / 17
    assert x.dtype == jnp.float32 and bool(jnp.all((x >= lower) & (x < lower + 1 / 17)))
    np.testing.assert_array_equal(images.unit_to_pixels(x, 17), ALL_LEVELS)
    centres = images.to_unit(ALL_LEVELS, 17)
    np.testing.assert_allclose(centres, (ALL_LEVELS + 0.5) / 17, atol=1e-7)
    np.testing.assert_array_equal(images.unit_to_pixels(centres, 17), ALL_LEVELS)
    np.testing.assert_array_equal(images.unit_to_pixels(jnp.array([-1.0, 0.0, 0.999, 2.0]), 256), [0, 0, 255, 255])


def test_to_intensity_maps_black_and_white_to_0_and_1_and_inverts():
    x = images.to_intensity(ALL_LEVELS, 17)
    assert float(x.min()) == 0.0 and float(x.max()) == 1.0
    np.testing.assert_array_equal(images.intensity_to_pixels(x, 17), ALL_LEVELS)
    # Rounding: a value within half a level of p decodes to p; out of range clips.
    np.testing.assert_array_equal(
        images.intensity_to_pixels(jnp.array([-0.5, 0.49 / 16, 0.51 / 16, 1.5]), 17), [0, 0, 1, 16]
    )
    with pytest.raises(TypeError, match='integer array'):
        images.to_intensity(np.zeros(2, np.float32), 17)
