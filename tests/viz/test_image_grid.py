"""Image grids: layout, level scaling, PNG output."""

import numpy as np
import pytest
from PIL import Image

from zoo.viz.image_grid import make_grid, save_grid


def test_make_grid_layout_and_levels():
    pixels = np.zeros((5, 2, 3, 1), np.uint8)
    pixels[4] = 16
    grid = make_grid(pixels, num_levels=17, cols=3, pad=1)
    assert grid.shape == (2 * 3 + 1, 3 * 4 + 1, 1) and grid.dtype == np.uint8
    np.testing.assert_array_equal(grid[1:3, 1:4], 0)  # image 0, level 0 -> black
    np.testing.assert_array_equal(grid[4:6, 5:8], 255)  # image 4 (row 1, col 1), top level -> white
    assert grid[0, 0] == 255  # padding is white
    np.testing.assert_array_equal(grid[4:6, 9:12], 255)  # the missing sixth cell stays blank


def test_save_grid_writes_an_upscaled_png(tmp_path):
    pixels = np.random.default_rng(0).integers(0, 256, (4, 8, 8, 3), dtype=np.uint8)
    path = save_grid(tmp_path / 'sub' / 'grid.png', pixels, min_size=100)
    with Image.open(path) as image:
        assert image.mode == 'RGB' and image.width >= 100
        assert image.width % make_grid(pixels).shape[1] == 0


def test_make_grid_rejects_wrong_shapes():
    with pytest.raises(ValueError, match='expected pixels'):
        make_grid(np.zeros((8, 8)))
