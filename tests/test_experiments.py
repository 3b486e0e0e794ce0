"""The one command line (experiments/runner.py): every config starts, flags, workdirs, errors, a run end to end."""

import os
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import pytest

from experiments import configs, runner
from zoo import data
from zoo.tasks import build_task
from zoo.train import load_trained, override, read_metrics

REPO = Path(__file__).resolve().parents[1]
ALL_CONFIGS = [(model, name) for model in configs.models() for name in configs.names(model)]


def config_and_task(model, name):
    config = configs.get_config(model, name).validate()
    if model == 'glann':  # one latent per training image: give the count instead of reading the dataset
        config = override(config, ['task_kwargs.num_examples=64'])
    info = data.dataset_info(config.dataset)
    return config, info, build_task(config, info)


@pytest.mark.parametrize('model, name', ALL_CONFIGS)
def test_every_config_builds_its_task(model, name, npz_next_to_configs):
    config, _, task = config_and_task(model, name)
    assert config.task == model
    assert task.headline


@pytest.mark.slow
@pytest.mark.parametrize('model, name', ALL_CONFIGS)
def test_every_config_initialises_on_its_dataset(model, name, npz_next_to_configs):
    """Shapes only (jax.eval_shape): a paper config's networks fit its dataset's images."""
    config, info, task = config_and_task(model, name)
    n = config.batch_size
    batch = {
        'image': np.zeros((n, *info.image_shape), np.uint8),
        'label': np.zeros(n, np.int32),
        'index': np.arange(n, dtype=np.int32),
    }
    state = jax.eval_shape(task.init, jax.random.key(0), batch)
    assert jax.tree.leaves(state.params)


def test_command_line_flags_reach_the_config():
    args = runner.parse_args(
        'glow',
        [
            '--steps',
            '7',
            '--batch-size',
            '8',
            '--seed',
            '3',
            '--seconds',
            '60',
            '--dataset',
            'npz:x.npz',
            '--set',
            'optimizer.lr=0.1',
        ],
    )
    config = runner.build_config('glow', args)
    assert (config.steps, config.batch_size, config.seed, config.optimizer.lr) == (7, 8, 3, 0.1)
    assert (config.dataset, config.seconds) == ('npz:x.npz', 60.0)


@pytest.mark.parametrize(
    'argv, workdir',
    [
        (['--config', 'digits'], 'workdirs/glow-digits'),
        (['--dataset', 'digits'], 'workdirs/glow-digits'),
        (['--dataset', 'npz:data/my_images.npz'], 'workdirs/glow-digits-my_images'),
        (['--dataset', 'folder:/photos/cats/'], 'workdirs/glow-digits-cats'),
        (['--config', 'cifar10', '--dataset', 'mnist'], 'workdirs/glow-cifar10-mnist'),
    ],
)
def test_default_workdir_names_a_dataset_that_is_not_the_configs_own(argv, workdir):
    args = runner.parse_args('glow', argv)
    assert runner.default_workdir('glow', args, runner.build_config('glow', args)) == workdir


@pytest.mark.parametrize(
    'argv, message',
    [
        (['--set', 'optimizer.lr=abc'], "optimizer.lr='abc': expected float"),
        (['--set', 'learning_rate=1'], "unknown config field 'learning_rate'"),
        (['--batch-size', '0'], 'batch_size must be >= 1, got 0'),
        (['--set', 'model.hiden=3'], 'hiden'),
    ],
)
def test_mistakes_print_one_line_and_exit_2(argv, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        runner.main('glow', ['--workdir', str(tmp_path)] + argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith('error: ') and message in err.splitlines()[0]
    assert 'Traceback' not in err and '--debug' in err


def test_debug_prints_the_traceback_and_exits_2(tmp_path, capsys):
    """The README's promise: status 2 for a mistake, with or without --debug."""
    with pytest.raises(SystemExit) as exit_info:
        runner.main('glow', ['--workdir', str(tmp_path), '--batch-size', '0', '--debug'])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith('Traceback') and 'batch_size must be >= 1' in err.splitlines()[-1]
    readme = (REPO / 'README.md').read_text()
    assert 'exits with status 2' in readme and '`--debug`' in readme


@pytest.mark.parametrize('argv, code', [([], 2), (['--help'], 0), (['no_such_model'], 2)])
def test_the_entry_point_names_every_model(argv, code, capsys):
    with pytest.raises(SystemExit) as exit_info:
        runner.cli(argv)
    assert exit_info.value.code == code
    out = capsys.readouterr()
    assert 'glow' in out.out + out.err and 'package.module:Class' in out.out + out.err


def test_every_make_train_target_names_a_model():
    """train-<model> runs `experiments.train <model with - as _>`: each must be a config module."""
    makefile = (REPO / 'Makefile').read_text()
    line = next(line for line in makefile.splitlines() if line.startswith('MODELS :='))
    assert sorted(m.replace('-', '_') for m in line.split(':=')[1].split()) == configs.models()


def test_result_line_leaves_out_an_unmeasured_step_time():
    summary = {
        'headline': 'bpd',
        'complete': False,
        'step': 3,
        'wall_time': 2.0,
        'step_time': None,
        'test': {'bpd': 2.5},
        'validation': {},
    }
    assert runner.result_line(summary) == 'test bpd 2.5000 | 3 steps in 2 s'
    summary['step_time'] = 0.0052
    assert runner.result_line(summary).endswith('| 5.2 ms/step (median)')


def test_result_line_of_a_resumed_run_counts_the_steps_it_ran():
    summary = {'headline': 'bpd', 'complete': False, 'step': 3000, 'first_step': 2700, 'wall_time': 26.0}
    summary |= {'step_time': None, 'test': {'bpd': 2.5}, 'validation': {}}
    assert runner.result_line(summary) == 'test bpd 2.5000 | steps 2700-3000 in 26 s'


@pytest.mark.slow
def test_glow_digits_default_runs_end_to_end(tmp_path, capsys):
    workdir = str(tmp_path / 'glow')
    small = [
        '--set',
        'model.flow_steps=1',
        '--set',
        'model.hidden=8',
        '--set',
        'log_every=2',
        '--set',
        'checkpoint_every=2',
    ]
    summary = runner.main('glow', ['--workdir', workdir, '--steps', '3', '--batch-size', '16'] + small)
    assert summary['step'] == 3
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith('test bpd ') and 'None' not in last
    assert [r['step'] for r in read_metrics(os.path.join(workdir, 'metrics.jsonl')) if 'loss' in r] == [2, 3]
    assert any(name.endswith('.png') for name in os.listdir(os.path.join(workdir, 'samples')))
    assert sorted(os.listdir(os.path.join(workdir, 'checkpoints'))) == ['2', '3']
    assert load_trained(workdir).step == 3

    again = runner.main('glow', ['--workdir', workdir, '--steps', '3', '--batch-size', '16'] + small)
    assert again['complete']
    assert 'is complete' in capsys.readouterr().out


@pytest.mark.slow
def test_python_dash_m_experiments_train_exits_2_on_a_mistake(tmp_path):
    """The real process a user starts: one error line on stderr, status 2."""
    result = subprocess.run(
        [sys.executable, '-m', 'experiments.train', 'glow', '--workdir', str(tmp_path), '--set', 'learning_rate=1'],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: unknown config field 'learning_rate'")
