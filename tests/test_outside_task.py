"""A task from outside the repository, named by its import path, trains through the one entry.

The task is the "Adding a model" page's example (docs/adding-a-model.md), written to a temporary module."""

import os
import re
from pathlib import Path

import numpy as np
import pytest

from experiments import runner
from zoo.train import load_trained, read_metrics

PAGE = Path(__file__).resolve().parents[1] / 'docs' / 'adding-a-model.md'


@pytest.fixture
def my_task(tmp_path, monkeypatch):
    source = re.search(r'^```python\n(# my_task\.py.*?)^```', PAGE.read_text(), flags=re.M | re.S).group(1)
    (tmp_path / 'my_task.py').write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    return 'my_task:MeanImage'


@pytest.mark.slow
def test_an_outside_task_trains_through_the_loop(my_task, tmp_path, capsys):
    workdir = str(tmp_path / 'run')
    summary = runner.main(
        my_task,
        [
            '--workdir',
            workdir,
            '--steps',
            '40',
            '--batch-size',
            '32',
            '--set',
            'optimizer.lr=0.05',
            '--set',
            'optimizer.warmup_steps=0',
            '--set',
            'log_every=10',
            '--set',
            'eval_every=0',
        ],
    )
    assert summary['step'] == 40 and summary['headline'] == 'nll'
    losses = [r['loss'] for r in read_metrics(os.path.join(workdir, 'metrics.jsonl')) if 'loss' in r]
    assert len(losses) == 4 and losses[-1] < 0.8 * losses[0]  # the mean moves to the data
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith('test nll ')

    trained = load_trained(workdir)  # the checkpoint's config names the task by its import path
    assert type(trained.task).__name__ == 'MeanImage' and trained.config.task == my_task
    samples = np.asarray(trained.task.sample(trained.state, trained.state.rng, 5))
    assert samples.dtype == np.uint8 and samples.shape == (5, 8, 8, 1)


def test_an_import_path_takes_settings_from_flags_and_names_its_workdir(my_task):
    args = runner.parse_args(my_task, ['--steps', '7', '--set', 'task_kwargs.sigma=0.5'])
    config = runner.build_config(my_task, args)
    assert (config.task, config.steps, config.task_kwargs) == (my_task, 7, {'sigma': 0.5})
    assert runner.default_workdir(my_task, args, config) == 'workdirs/meanimage-digits'


def test_an_import_path_has_no_named_configs(my_task, capsys):
    with pytest.raises(SystemExit) as exit_info:
        runner.main(my_task, ['--config', 'digits'])
    assert exit_info.value.code == 2
