"""Pictures of 2-D GAN samples rendered to arrays (for the loop's PNG sheets and ``make fgan-2d``)."""

import numpy as np


def scatter_figure(generated, real=None, bounds: tuple = (-4.0, 4.0), title: str | None = None):
    """A matplotlib figure: real points (grey) under generated points (blue) on a square box."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(3.2, 3.2), dpi=100)
    ax = fig.add_subplot()
    if real is not None:
        real = np.asarray(real)
        ax.scatter(real[:, 0], real[:, 1], s=2, c='0.6', alpha=0.5, linewidths=0, label='real')
    generated = np.asarray(generated)
    ax.scatter(generated[:, 0], generated[:, 1], s=2, c='tab:blue', alpha=0.6, linewidths=0, label='generated')
    ax.set(xlim=bounds, ylim=bounds, aspect='equal', xticks=[], yticks=[])
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


def figure_to_array(fig) -> np.ndarray:
    """uint8 (H, W, 3) pixels of a matplotlib figure (Agg canvas, no display needed)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def scatter_image(generated, real=None, bounds: tuple = (-4.0, 4.0), title: str | None = None) -> np.ndarray:
    """``scatter_figure`` as a uint8 (H, W, 3) array."""
    return figure_to_array(scatter_figure(generated, real, bounds, title))
