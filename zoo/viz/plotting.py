"""Matplotlib figures for notebooks: image mosaics with labels, and 2-D density maps.

Images are integer pixels (N, H, W, C) in [0, num_levels), as ``zoo.images.to_pixels``
returns; they are laid out with ``zoo.image_grid.make_grid`` and shown with nearest-
neighbour scaling, so 8x8 digits stay crisp.  Density maps take any vectorised
log-density ``f: (M, 2) -> (M,)`` (a flow's ``log_prob`` or ``zoo.data.toy2d.log_density``).
Every function returns the matplotlib ``Figure`` (or draws on a given ``Axes``) and never
calls ``plt.show``, so it works headless and in tests.
"""

import os
from collections.abc import Callable, Sequence

import matplotlib.pyplot as plt
import numpy as np

from zoo.viz.image_grid import make_grid

PAD = 1  # white pixels between cells, as make_grid draws them


def image_grid(
    pixels,
    num_levels: int,
    cols: int | None = None,
    *,
    ax=None,
    title: str | None = None,
    row_labels: Sequence[str] | None = None,
    col_labels: Sequence[str] | None = None,
    cell_inches: float = 0.6,
):
    """Show (N, H, W, C) pixels as one mosaic, ``cols`` per row (default about square).

    ``row_labels`` / ``col_labels`` label the rows (left) and columns (below), e.g. the
    temperatures of a sweep or the weights t of an interpolation strip.  Draws on ``ax``
    when given, else on a new figure sized ``cell_inches`` per cell; returns the figure.
    """
    pixels = np.asarray(pixels)
    grid = make_grid(pixels, num_levels, cols, pad=PAD)
    n, h, w, _ = pixels.shape
    cols = cols or int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    if ax is None:
        extra_w = 0.6 if row_labels is not None else 0.0
        extra_h = (0.3 if col_labels is not None else 0.0) + (0.35 if title else 0.0)
        fig, ax = plt.subplots(
            figsize=(cols * cell_inches + extra_w, rows * cell_inches + extra_h), layout='constrained'
        )
    fig = ax.figure
    ax.imshow(grid[..., 0] if grid.shape[-1] == 1 else grid, cmap='gray', vmin=0, vmax=255, interpolation='nearest')
    centres = lambda k, size: [PAD + i * (size + PAD) + (size - 1) / 2 for i in range(k)]
    ax.set_xticks(centres(cols, w) if col_labels is not None else [])
    ax.set_yticks(centres(rows, h) if row_labels is not None else [])
    if col_labels is not None:
        ax.set_xticklabels(_check_labels(col_labels, cols, 'col_labels'), fontsize=8)
    if row_labels is not None:
        ax.set_yticklabels(_check_labels(row_labels, rows, 'row_labels'), fontsize=8)
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def image_rows(
    rows: Sequence,
    num_levels: int,
    *,
    labels: Sequence[str] | None = None,
    col_labels: Sequence[str] | None = None,
    title: str | None = None,
    cell_inches: float = 0.6,
):
    """Stack several equally long strips (each (N, H, W, C)) as the rows of one mosaic.

    ``labels`` name the rows, ``col_labels`` the columns.
    """
    rows = [np.asarray(r) for r in rows]
    if len({r.shape for r in rows}) != 1:
        raise ValueError(f'all rows need the same shape, got {[r.shape for r in rows]}')
    return image_grid(
        np.concatenate(rows),
        num_levels,
        cols=rows[0].shape[0],
        title=title,
        row_labels=labels,
        col_labels=col_labels,
        cell_inches=cell_inches,
    )


def _check_labels(labels, expected: int, name: str) -> list:
    labels = list(labels)
    if len(labels) != expected:
        raise ValueError(f'{name} has {len(labels)} entries for {expected} cells')
    return labels


def density_on_grid(log_prob: Callable, bounds: tuple = (-4.0, 4.0), resolution: int = 100):
    """Evaluate ``log_prob`` on a ``resolution`` x ``resolution`` grid over bounds^2.

    Returns a (resolution, resolution) float array of log p at the pixel centres; row i
    is y from top (high) to bottom (low), column j is x from left to right, ready for
    ``imshow`` with ``extent=(lo, hi, lo, hi)``.
    """
    lo, hi = bounds
    step = (hi - lo) / resolution
    centres = lo + step * (np.arange(resolution) + 0.5)
    xs, ys = np.meshgrid(centres, centres[::-1])
    points = np.stack([xs.ravel(), ys.ravel()], -1).astype(np.float32)
    return np.asarray(log_prob(points)).reshape(resolution, resolution)


def plot_density(ax, log_density_grid, bounds: tuple = (-4.0, 4.0), title: str | None = None):
    """Draw p = exp(log p) from ``density_on_grid`` on ``ax`` (-inf shows as zero density)."""
    lo, hi = bounds
    values = np.exp(np.nan_to_num(np.asarray(log_density_grid, np.float64), nan=-np.inf, posinf=np.inf))
    ax.imshow(values, extent=(lo, hi, lo, hi), cmap='magma', interpolation='nearest')
    _square(ax, bounds, title)


def plot_samples(ax, samples, bounds: tuple = (-4.0, 4.0), title: str | None = None, bins: int = 100):
    """Draw (N, 2) samples as a 2-D histogram on ``ax``, comparable with ``plot_density``."""
    samples = np.asarray(samples)
    lo, hi = bounds
    ax.hist2d(samples[:, 0], samples[:, 1], bins=bins, range=[[lo, hi], [lo, hi]], cmap='magma')
    _square(ax, bounds, title)


def _square(ax, bounds, title):
    ax.set_xlim(*bounds)
    ax.set_ylim(*bounds)
    ax.set_aspect('equal')
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)


def density_figure(rows: Sequence[dict], bounds: tuple = (-4.0, 4.0), cell_inches: float = 2.2):
    """One row per density, one column per panel.

    Each row is a dict with ``name`` and any of ``data`` (samples, (N, 2)), ``density``
    (a grid from ``density_on_grid``) and ``samples`` (model samples, (N, 2)); panels
    are drawn in that order with column titles "data", "learned density", "model samples".
    """
    kinds = [k for k in ('data', 'density', 'samples') if any(k in r for r in rows)]
    titles = {'data': 'data', 'density': 'learned density', 'samples': 'model samples'}
    fig, axes = plt.subplots(
        len(rows),
        len(kinds),
        squeeze=False,
        layout='constrained',
        figsize=(cell_inches * len(kinds), cell_inches * len(rows)),
    )
    for i, row in enumerate(rows):
        for j, kind in enumerate(kinds):
            ax, title = axes[i, j], titles[kind] if i == 0 else None
            if kind not in row:
                ax.axis('off')
            elif kind == 'density':
                plot_density(ax, row[kind], bounds, title)
            else:
                plot_samples(ax, row[kind], bounds, title)
        axes[i, 0].set_ylabel(row['name'], fontsize=9)
    return fig


def save_figure(fig, path, dpi: int = 120) -> str:
    """``fig.savefig(path)`` after creating the directory; returns the path."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=dpi, bbox_inches='tight')
    return str(path)
