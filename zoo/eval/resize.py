"""Bilinear resize exactly as PyTorch's ``F.interpolate(mode='bilinear', align_corners=False)``.

FID's network sees every image resized to 299x299 this way (pytorch-fid, ``InceptionV3.forward``),
so the port resizes with the same sampling grid: output pixel ``o`` reads the input at

    s = max((o + 1/2) * in / out - 1/2, 0),   i0 = floor(s),   i1 = min(i0 + 1, in - 1)
    y[o] = (1 - (s - i0)) x[i0] + (s - i0) x[i1]

separably along height and width, with no antialiasing when shrinking (unlike
``jax.image.resize``, which filters on downsampling).  Written as two small
interpolation matrices, so it is one einsum on the device.
"""

import jax.numpy as jnp
import numpy as np


def interpolation_matrix(size_in: int, size_out: int) -> np.ndarray:
    """(size_out, size_in) float32 weights of PyTorch's half-pixel bilinear sampling along one axis."""
    source = np.maximum((np.arange(size_out) + 0.5) * (size_in / size_out) - 0.5, 0.0)
    lower = np.floor(source).astype(np.int64)
    upper = np.minimum(lower + 1, size_in - 1)
    frac = source - lower
    matrix = np.zeros((size_out, size_in), np.float64)
    np.add.at(matrix, (np.arange(size_out), lower), 1.0 - frac)
    np.add.at(matrix, (np.arange(size_out), upper), frac)
    return matrix.astype(np.float32)


def resize_bilinear(images, size: tuple[int, int]):
    """float images (N, H, W, C) -> (N, size[0], size[1], C), PyTorch's bilinear, align_corners=False."""
    if images.ndim != 4:
        raise ValueError(f'need images of shape (N, H, W, C), got {images.shape}')
    rows = jnp.asarray(interpolation_matrix(images.shape[1], size[0]))
    cols = jnp.asarray(interpolation_matrix(images.shape[2], size[1]))
    return jnp.einsum('oh,nhwc,pw->nopc', rows, images, cols, precision='highest')
