"""Experiment scripts: configs, command line, one-line errors, and the digits default end to end."""

import os

import numpy as np
import pytest

from experiments import configs, runner
from zoo import data
from zoo.tasks import build_task
from zoo.train import load_trained, read_metrics


@pytest.mark.parametrize('name', ['nice', 'realnvp', 'glow'])
def test_every_config_builds_its_task(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # npz configs name a file next to where they run: write a small one there
    for config_name in configs.names(name):
        config = configs.get_config(name, config_name).validate()
        if config.dataset.startswith('npz:'):
            images = np.zeros((4, 32, 32, 1), np.uint8)
            np.savez(config.dataset[len('npz:'):], x_train=images, x_test=images)
        task = build_task(config, data.dataset_info(config.dataset))
        assert task.headline == 'bpd' and config.task == name


def test_paper_configs_follow_the_papers():
    glow = configs.get_config('glow', 'cifar10')
    assert (glow.model['levels'], glow.model['flow_steps'], glow.model['hidden']) == (3, 32, 512)
    assert glow.optimizer.name == 'adamax' and glow.optimizer.lr == 1e-3 and glow.optimizer.warmup_steps > 0
    assert glow.batch_size == 512
    nice = configs.get_config('nice', 'mnist')
    assert nice.dataset == 'mnist' and nice.model['hidden'] == 1000 and nice.model['depth'] == 5
    assert nice.batch_size == 128 and nice.task_kwargs['temperatures'] == (0.5, 0.75, 1.0)


def test_command_line_flags():
    args = runner.parse_args('glow', ['--steps', '7', '--batch-size', '8', '--seed', '3', '--seconds', '60',
                                      '--dataset', 'npz:x.npz', '--set', 'optimizer.lr=0.1'])
    config = runner.build_config('glow', args)
    assert (config.steps, config.batch_size, config.seed, config.optimizer.lr) == (7, 8, 3, 0.1)
    assert (config.dataset, config.seconds) == ('npz:x.npz', 60.0)


@pytest.mark.parametrize('argv, message', [
    (['--set', 'optimizer.lr=abc'], "optimizer.lr='abc': expected float"),
    (['--set', 'learning_rate=1'], "unknown config field 'learning_rate'"),
    (['--batch-size', '0'], 'batch_size must be >= 1, got 0'),
    (['--set', 'model.hiden=3'], 'model settings for glow'),
])
def test_mistakes_print_one_line_and_exit_2(argv, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        runner.main('glow', ['--workdir', str(tmp_path)] + argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith('error: ') and message in err.splitlines()[0]
    assert 'Traceback' not in err and '--debug' in err


def test_debug_shows_the_exception(tmp_path):
    with pytest.raises(ValueError, match='batch_size must be >= 1'):
        runner.main('glow', ['--workdir', str(tmp_path), '--batch-size', '0', '--debug'])


def test_glow_digits_default_runs_end_to_end(tmp_path, capsys):
    workdir = str(tmp_path / 'glow')
    small = ['--set', 'model.flow_steps=1', '--set', 'model.hidden=8', '--set', 'log_every=2',
             '--set', 'checkpoint_every=2']
    summary = runner.main('glow', ['--workdir', workdir, '--steps', '3', '--batch-size', '16'] + small)
    assert summary['step'] == 3
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith('test bpd ') and 'ms/step (median)' in last
    assert [r['step'] for r in read_metrics(os.path.join(workdir, 'metrics.jsonl')) if 'loss' in r] == [2, 3]
    assert any(name.endswith('.png') for name in os.listdir(os.path.join(workdir, 'samples')))
    assert sorted(os.listdir(os.path.join(workdir, 'checkpoints'))) == ['2', '3']
    assert load_trained(workdir).step == 3

    again = runner.main('glow', ['--workdir', workdir, '--steps', '3', '--batch-size', '16'] + small)
    assert again['complete']
    assert 'is complete' in capsys.readouterr().out
