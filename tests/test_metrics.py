"""bits/dim: the formula against a hand computation, and a uniform density's known value."""

import math

import numpy as np

from zoo import metrics


def test_uniform_density_on_the_unit_cube_has_log2_levels_bits_per_dim():
    # Dequantised x in [-1/2, 1/2)^D under the uniform density (log p = 0) costs exactly log2 L bits/dim.
    np.testing.assert_allclose(metrics.bits_per_dim(np.zeros(3), num_dims=64, num_levels=17), math.log2(17))


def test_bits_per_dim_formula():
    log_prob, d, levels = np.array([-100.0, 50.0]), 10, 256
    expected = (-log_prob + d * math.log(levels)) / (d * math.log(2))
    np.testing.assert_allclose(metrics.bits_per_dim(log_prob, d, levels), expected)
