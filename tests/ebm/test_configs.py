"""EBM and GLANN configs build their tasks, and their digits defaults run end to end."""

import json
import os

import numpy as np
import pytest

from experiments import configs, evaluate, runner
from zoo.data import DatasetInfo
from zoo.imle import imle
from zoo.imle.task import GLANNTask
from zoo.tasks import build_task
from zoo.train import read_metrics

INFO = {
    'digits': DatasetInfo(name='digits', image_shape=(8, 8, 1), num_levels=17, num_classes=10),
    'cifar10': DatasetInfo(name='cifar10', image_shape=(32, 32, 3), num_levels=256, num_classes=10),
    'npz:mnist32.npz': DatasetInfo(name='mnist32', image_shape=(32, 32, 1), num_levels=256, num_classes=10),
}


def test_every_ebm_config_holds_a_batch_in_its_buffer():
    for name in configs.names('ebm'):
        config = configs.get_config('ebm', name).validate()
        task = build_task(config, INFO[config.dataset])
        assert task.buffer_size >= config.batch_size


def test_every_glann_config_fits_its_images():
    for name in configs.names('glann'):
        config = configs.get_config('glann', name).validate()
        info = INFO[config.dataset]
        task = GLANNTask(info, config, num_examples=3, **config.task_kwargs)  # no dataset read
        assert 0 < task.glo_steps < config.steps
        imle.laplacian_pyramid(np.zeros((1, *info.image_shape)), task.levels)  # the sides divide


@pytest.mark.slow
def test_ebm_digits_default_runs_end_to_end(tmp_path, capsys):
    workdir = str(tmp_path / 'ebm')
    small = [
        '--set',
        'model.features=(8,)',
        '--set',
        'model.hidden=8',
        '--set',
        'task_kwargs.langevin_steps=2',
        '--set',
        'task_kwargs.sample_steps=2',
        '--set',
        'task_kwargs.buffer_size=64',
        '--set',
        'log_every=2',
        '--set',
        'checkpoint_every=2',
    ]
    summary = runner.main('ebm', ['--workdir', workdir, '--steps', '3', '--batch-size', '16'] + small)
    assert summary['step'] == 3 and summary['headline'] == 'energy_gap'
    assert 'test energy_gap ' in capsys.readouterr().out
    assert [r['step'] for r in read_metrics(os.path.join(workdir, 'metrics.jsonl')) if 'loss' in r] == [2, 3]
    assert sorted(os.listdir(os.path.join(workdir, 'samples'))) == ['buffer_step0000003.png', 'samples_step0000003.png']
    # Offline sample quality judges fresh chains (the config's source) or, on request, the buffer.
    out = ['--num-samples', '20', '--metrics', 'fd,classes', '--out', str(tmp_path / 'report')]
    evaluate.main([workdir, *out])
    evaluate.main([workdir, *out, '--condition', 'source=buffer'])
    with open(os.path.join(workdir, 'evaluation_buffer.json')) as f:
        assert json.load(f)['conditions'] == {'source': 'buffer'}
    assert {'evaluation.json', 'evaluation_buffer.json'} <= set(os.listdir(workdir))


@pytest.mark.slow
def test_glann_digits_default_runs_end_to_end(tmp_path, capsys):
    workdir = str(tmp_path / 'glann')
    small = [
        '--set',
        'model.generator.hidden=8',
        '--set',
        'model.mapper.hidden=8',
        '--set',
        'task_kwargs.glo_steps=2',
        '--set',
        'task_kwargs.eval_pool=16',
        '--set',
        'log_every=2',
        '--set',
        'checkpoint_every=2',
    ]
    summary = runner.main('glann', ['--workdir', workdir, '--steps', '3', '--batch-size', '16'] + small)
    assert summary['step'] == 3 and summary['test']['nn_distance'] > 0
    assert 'test nn_distance ' in capsys.readouterr().out
    assert sorted(os.listdir(os.path.join(workdir, 'samples'))) == [
        'glo_fits_step0000003.png',
        'samples_step0000003.png',
    ]
