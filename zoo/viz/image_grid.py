"""Save a batch of images as one PNG grid (for sample sheets)."""

import math
import os

import numpy as np
from PIL import Image


def make_grid(pixels, num_levels: int = 256, cols: int | None = None, pad: int = 1) -> np.ndarray:
    """uint8 (N, H, W, C) pixels in [0, num_levels) -> one uint8 (rows*(H+pad)+pad, ..., C) image.

    Levels are stretched to 0..255 (p * 255 / (num_levels - 1)) so 17-level
    digits look like ordinary gray images; the grid is ``cols`` wide (default
    about square) with ``pad`` pixels of white between cells.
    """
    pixels = np.asarray(pixels)
    if pixels.ndim != 4 or pixels.shape[-1] not in (1, 3):
        raise ValueError(f'expected pixels of shape (N, H, W, 1 or 3), got {pixels.shape}')
    n, h, w, c = pixels.shape
    cols = cols or math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    scaled = np.round(pixels.astype(np.float32) * (255.0 / max(num_levels - 1, 1)))
    scaled = np.clip(scaled, 0, 255).astype(np.uint8)
    grid = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, c), 255, np.uint8)
    for i in range(n):
        r, k = divmod(i, cols)
        top, left = pad + r * (h + pad), pad + k * (w + pad)
        grid[top : top + h, left : left + w] = scaled[i]
    return grid


def save_grid(path, pixels, num_levels: int = 256, cols: int | None = None, min_size: int = 256) -> str:
    """Write ``make_grid(pixels)`` to ``path`` as PNG, upscaled (nearest) to at least ``min_size`` pixels wide.

    Returns the path.  Small images (8x8 digits) are enlarged so the sheet is
    readable without zooming.
    """
    grid = make_grid(pixels, num_levels, cols)
    scale = max(1, math.ceil(min_size / grid.shape[1]))
    image = Image.fromarray(grid[..., 0] if grid.shape[-1] == 1 else grid)
    if scale > 1:
        image = image.resize((grid.shape[1] * scale, grid.shape[0] * scale), Image.Resampling.NEAREST)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    image.save(path)
    return path
