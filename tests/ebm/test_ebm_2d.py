"""experiments.ebm_2d: the 2-D EBM trains through the shared loop and writes its picture and summary."""

import json
import os

import numpy as np

from tests.interrupts import interrupted_exit_code


def test_ebm_2d_writes_the_picture_and_summary(tmp_path):
    from experiments import ebm_2d

    summary = ebm_2d.main(
        [
            '--steps',
            '2',
            '--out',
            str(tmp_path),
            '--densities',
            'eight_gaussians',
            '--num-samples',
            '64',
            '--sample-steps',
            '2',
        ]
    )
    assert os.path.exists(tmp_path / 'ebm_2d.png')
    with open(tmp_path / 'summary.json') as f:
        assert json.load(f) == summary
    assert summary[0]['density'] == 'eight_gaussians' and 0 <= summary[0]['coverage'] <= 1
    assert np.isfinite(summary[0]['mmd2']) and np.isfinite(summary[0]['energy_gap'])
    assert os.path.isdir(tmp_path / 'eight_gaussians' / 'checkpoints')  # one loop run per density


def test_ctrl_c_exits_130_without_a_traceback(monkeypatch, tmp_path):
    """Ctrl-C during a fit: the loop has saved and printed how to resume; main exits 130 (as
    ``experiments.train`` does) instead of burying that line under a KeyboardInterrupt traceback."""
    from experiments import ebm_2d

    argv = ['--out', str(tmp_path), '--densities', 'eight_gaussians']
    assert interrupted_exit_code(monkeypatch, ebm_2d, 'fit_one', argv) == 130
