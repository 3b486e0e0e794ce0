"""EBM experiment configs build their tasks, and the digits default runs end to end."""

import json
import os
import numpy as np

from experiments import configs, gan_quality, runner
from zoo.data import DatasetInfo
from zoo.imle import imle
from zoo.imle.task import GLANNTask
from zoo.tasks import build_task
from zoo.train import read_metrics

INFO = {'digits': DatasetInfo(name='digits', image_shape=(8, 8, 1), num_levels=17, num_classes=10),
        'cifar10': DatasetInfo(name='cifar10', image_shape=(32, 32, 3), num_levels=256, num_classes=10),
        'npz:mnist32.npz': DatasetInfo(name='mnist32', image_shape=(32, 32, 1), num_levels=256, num_classes=10)}


def test_every_ebm_config_builds_its_task():
    for name in configs.names('ebm'):
        config = configs.get_config('ebm', name).validate()
        task = build_task(config, INFO[config.dataset])
        assert task.buffer_size >= config.batch_size


def test_short_run_configs_sample_like_they_train():
    """digits and mnist32 are short-run EBMs: chains from noise only, judged at the training length."""
    for name in ('digits', 'mnist32'):
        config = configs.get_config('ebm', name)
        kwargs = config.task_kwargs
        assert kwargs['reuse_prob'] == 0.0 and kwargs['sample_source'] == 'fresh'
        assert kwargs['sample_steps'] == kwargs['langevin_steps'] and not config.model['spectral_norm']
        assert config.optimizer.ema_decay > 0
    mnist32 = configs.get_config('ebm', 'mnist32')
    assert mnist32.seconds == 300.0 and mnist32.model['strides'] == (2, 2, 2)


def test_every_glann_config_builds_its_task():
    for name in configs.names('glann'):
        config = configs.get_config('glann', name).validate()
        info = INFO[config.dataset]
        task = GLANNTask(info, config, num_examples=3, **config.task_kwargs)  # no dataset read
        assert 0 < task.glo_steps < config.steps
        imle.laplacian_pyramid(np.zeros((1, *info.image_shape)), task.levels)  # the sides divide


def test_cifar10_follows_the_igebm_recipe():
    config = configs.get_config('ebm', 'cifar10')
    kwargs = config.task_kwargs
    assert (kwargs['langevin_steps'], kwargs['step_size'] / 2, kwargs['noise_scale']) == (60, 10.0, 0.005)
    assert (kwargs['buffer_size'], kwargs['reuse_prob'], kwargs['alpha']) == (10_000, 0.95, 1.0)
    assert config.model['spectral_norm'] and config.optimizer.b1 == 0.0 and config.optimizer.lr == 1e-4


def test_ebm_digits_default_runs_end_to_end(tmp_path, capsys):
    workdir = str(tmp_path / 'ebm')
    small = ['--set', 'model.features=(8,)', '--set', 'model.hidden=8', '--set', 'task_kwargs.langevin_steps=2',
             '--set', 'task_kwargs.sample_steps=2', '--set', 'task_kwargs.buffer_size=64', '--set', 'log_every=2',
             '--set', 'checkpoint_every=2']
    summary = runner.main('ebm', ['--workdir', workdir, '--steps', '3', '--batch-size', '16'] + small)
    assert summary['step'] == 3 and summary['headline'] == 'energy_gap'
    assert 'test energy_gap ' in capsys.readouterr().out
    assert [r['step'] for r in read_metrics(os.path.join(workdir, 'metrics.jsonl')) if 'loss' in r] == [2, 3]
    assert sorted(os.listdir(os.path.join(workdir, 'samples'))) == ['buffer_step0000003.png',
                                                                     'samples_step0000003.png']
    # Offline sample quality judges fresh chains (the config's source) or, on request, the buffer.
    gan_quality.main([workdir, '--num-samples', '20'])
    gan_quality.main([workdir, '--num-samples', '20', '--sample-source', 'buffer'])
    out = capsys.readouterr().out
    assert '(fresh samples)' in out and '(buffer samples)' in out
    with open(os.path.join(workdir, 'sample_quality_buffer.json')) as f:
        assert json.load(f)['sample_source'] == 'buffer'
    assert {'sample_quality.json', 'quality_samples.png', 'quality_samples_buffer.png'} <= set(os.listdir(workdir))


def test_glann_digits_default_runs_end_to_end(tmp_path, capsys):
    workdir = str(tmp_path / 'glann')
    small = ['--set', 'model.generator.hidden=8', '--set', 'model.mapper.hidden=8', '--set',
             'task_kwargs.glo_steps=2', '--set', 'task_kwargs.eval_pool=16', '--set', 'log_every=2',
             '--set', 'checkpoint_every=2']
    summary = runner.main('glann', ['--workdir', workdir, '--steps', '3', '--batch-size', '16'] + small)
    assert summary['step'] == 3 and summary['test']['nn_distance'] > 0
    assert 'test nn_distance ' in capsys.readouterr().out
    assert sorted(os.listdir(os.path.join(workdir, 'samples'))) == ['glo_fits_step0000003.png',
                                                                     'samples_step0000003.png']
