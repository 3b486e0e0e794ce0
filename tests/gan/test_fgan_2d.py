"""experiments.fgan_2d trains through the shared loop on the 2-D eight Gaussians and writes its pictures."""

import json
import os

import numpy as np

from experiments import fgan_2d
from tests.interrupts import interrupted_exit_code
from zoo import sample_quality as sq
from zoo.data import toy2d


def test_mode_centres_are_the_datasets():
    centres, std = fgan_2d.mode_centres()
    points = np.asarray(toy2d.sample('eight_gaussians', 0, 4000))
    coverage = sq.mixture_mode_coverage(points, centres, std)
    assert coverage['modes_covered'] == 8 and coverage['high_quality'] > 0.99
    nearest = np.linalg.norm(points[:, None] - centres[None], axis=-1).min(1)
    # |x - c| of a 2-D Gaussian with std s has mean s sqrt(pi / 2); 4000 draws: about 1% error.
    assert abs(nearest.mean() / (std * np.sqrt(np.pi / 2)) - 1) < 0.05


def test_run_all_writes_a_picture_and_a_summary_per_divergence(tmp_path):
    summary = fgan_2d.run_all(
        ['js', 'kl'], steps=3, batch_size=32, out=str(tmp_path), hidden=8, depth=1, fresh_critic_steps=2
    )
    assert set(summary) == {'js', 'kl'}
    for name in ('js', 'kl'):
        assert os.path.exists(tmp_path / f'{name}.png')
        assert np.isfinite(summary[name]['estimated_divergence']) and 0 <= summary[name]['modes_covered'] <= 8
        assert np.isfinite(summary[name]['training_critic_bound'])
    assert (tmp_path / 'all.png').exists()
    with open(tmp_path / 'summary.json') as f:
        assert json.load(f) == summary


def test_a_diverged_run_is_recorded_and_the_others_go_on(tmp_path, monkeypatch):
    scan = fgan_2d.train_scan

    def diverge(task, seed, steps, batch_size):
        state, metrics = scan(task, seed, steps, batch_size)
        return state, {**metrics, 'critic_loss': np.array([0.0, np.nan, np.inf])}

    monkeypatch.setattr(fgan_2d, 'train_scan', diverge)
    summary = fgan_2d.run_all(['kl', 'js'], steps=3, batch_size=32, out=str(tmp_path), hidden=8, depth=1)
    assert summary == {
        name: {'estimated_divergence': None, 'error': 'critic_loss non-finite from step 1'} for name in ('kl', 'js')
    }
    assert (tmp_path / 'kl.png').exists() and (tmp_path / 'js.png').exists()


def test_a_fresh_critic_bounds_the_divergence_of_a_generator_far_from_the_ring():
    # Untrained and not standardised, the generator's samples sit near the origin (spread about 0.35),
    # nearly disjoint from the ring of radius 2.83: 2 JSD(P, Q) is then close to its maximum 2 log 2,
    # and the fresh critic's held-out bound must approach it from below (each term is at most log 2).
    summary, _ = fgan_2d.fit_one('js', 1, 32, hidden=32, depth=2, output_std=None, fresh_critic_steps=300)
    assert 1.2 < summary['estimated_divergence'] <= 2 * np.log(2) + 1e-6


def test_ctrl_c_prints_one_line_and_exits_130(monkeypatch, capsys):
    """Ctrl-C: one line saying nothing was saved, exit status 130 (as ``experiments.train``), no traceback."""
    assert interrupted_exit_code(monkeypatch, fgan_2d, 'run_all', ['--divergences', 'kl']) == 130
    assert capsys.readouterr().out.startswith('interrupted; nothing is saved')
