"""zoo.plotting: figures build headless, labels land where asked, density grids are oriented."""

import matplotlib

matplotlib.use('Agg')

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from zoo.data import toy2d  # noqa: E402
from zoo.viz import plotting  # noqa: E402

RNG = np.random.default_rng(0)


def digits(n, levels=17, channels=1):
    return RNG.integers(0, levels, (n, 8, 8, channels)).astype(np.uint8)


def shown(fig):
    return fig.axes[0].images[0].get_array()


def test_image_grid_mosaic_and_labels():
    fig = plotting.image_grid(digits(6), 17, cols=3, col_labels=list('abc'), row_labels=['r0', 'r1'], title='t')
    try:
        ax = fig.axes[0]
        assert shown(fig).shape == (2 * 9 + 1, 3 * 9 + 1)
        assert [t.get_text() for t in ax.get_xticklabels()] == list('abc')
        assert [t.get_text() for t in ax.get_yticklabels()] == ['r0', 'r1']
        assert ax.get_xticks()[0] == pytest.approx(1 + 3.5)  # centre of the first cell
        assert ax.get_title() == 't'
    finally:
        plt.close(fig)


def test_image_grid_rgb_and_on_given_axes():
    fig, axes = plt.subplots(1, 2)
    try:
        out = plotting.image_grid(digits(4, 256, 3), 256, ax=axes[1])
        assert out is fig and axes[1].images[0].get_array().shape == (19, 19, 3)
        assert axes[1].get_xticks().size == 0
    finally:
        plt.close(fig)


def test_label_count_is_checked():
    with pytest.raises(ValueError, match='col_labels has 2 entries for 3'):
        plotting.image_grid(digits(3), 17, cols=3, col_labels=['a', 'b'])
    plt.close('all')


def test_image_rows():
    fig = plotting.image_rows([digits(5), digits(5), digits(5)], 17, labels=['a', 'b', 'c'])
    try:
        assert shown(fig).shape == (3 * 9 + 1, 5 * 9 + 1)
    finally:
        plt.close(fig)
    with pytest.raises(ValueError, match='same shape'):
        plotting.image_rows([digits(5), digits(4)], 17)
    plt.close('all')


def test_density_on_grid_orientation():
    # log p = x + 10 y: largest at the top right of the image (row 0, last column).
    grid = plotting.density_on_grid(lambda p: p[:, 0] + 10 * p[:, 1], bounds=(-1, 1), resolution=4)
    assert grid.shape == (4, 4)
    assert np.unravel_index(np.argmax(grid), grid.shape) == (0, 3)
    np.testing.assert_allclose(grid[0, 0], -0.75 + 10 * 0.75)


def test_density_figure_and_save(tmp_path):
    name = 'eight_gaussians'
    rows = [
        dict(
            name=name,
            data=np.asarray(toy2d.sample(name, 0, 500)),
            density=plotting.density_on_grid(lambda p: toy2d.log_density(name, p), resolution=20),
            samples=np.asarray(toy2d.sample(name, 1, 500)),
        ),
        dict(
            name='checkerboard',
            density=plotting.density_on_grid(lambda p: toy2d.log_density('checkerboard', p), resolution=20),
        ),
    ]
    fig = plotting.density_figure(rows)
    try:
        axes = np.array(fig.axes).reshape(2, 3)
        assert [a.get_title() for a in axes[0]] == ['data', 'learned density', 'model samples']
        assert axes[1, 0].get_ylabel() == 'checkerboard' and not axes[1, 0].axison
        path = plotting.save_figure(fig, tmp_path / 'sub' / 'd.png')
        assert (tmp_path / 'sub' / 'd.png').stat().st_size > 1000 and path.endswith('d.png')
    finally:
        plt.close(fig)
