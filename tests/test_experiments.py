"""Experiment scripts: configs, command line, and the digits default end to end."""

import os

import pytest

from experiments import configs, runner
from zoo.data import dataset_info
from zoo.train import Config, build_model, load_trained, override, read_metrics


@pytest.mark.parametrize('model', ['nice', 'realnvp', 'glow'])
def test_every_config_builds_its_model(model):
    for name in configs.names(model):
        config = configs.get_config(model, name)
        info = dataset_info(config.dataset)
        build_model(config, info.image_shape, info.num_levels)
        assert config.batch_size > 0 and config.steps > 0


def test_paper_configs_follow_the_papers():
    glow = configs.get_config('glow', 'cifar10')
    assert (glow.model_kwargs['levels'], glow.model_kwargs['flow_steps'], glow.model_kwargs['hidden']) == (3, 32, 512)
    assert glow.optimizer == 'adamax' and glow.lr == 1e-3 and glow.warmup_steps > 0
    nice = configs.get_config('nice', 'mnist')
    assert nice.dataset == 'mnist' and nice.model_kwargs['hidden'] == 1000 and nice.model_kwargs['depth'] == 5


def test_overrides():
    config = override(Config(), ['lr=3e-4', 'steps=10', 'model_kwargs.hidden=8', "schedule=cosine",
                                 'temperatures=(0.5,)', 'lr_groups.coupling=0.1'])
    assert (config.lr, config.steps, config.model_kwargs, config.schedule) == (3e-4, 10, {'hidden': 8}, 'cosine')
    assert config.temperatures == (0.5,) and config.lr_groups == {'coupling': 0.1}
    assert Config().model_kwargs == {}  # the default is not mutated
    with pytest.raises(ValueError, match='unknown config field'):
        override(Config(), ['learning_rate=1'])
    with pytest.raises(ValueError, match='expected int'):
        override(Config(), ['steps=ten'])


def test_command_line_flags():
    args = runner.parse_args('glow', ['--steps', '7', '--batch-size', '8', '--seed', '3', '--set', 'lr=0.1'])
    config = runner.build_config('glow', args)
    assert (config.steps, config.batch_size, config.seed, config.lr, config.dataset) == (7, 8, 3, 0.1, 'digits')


def test_glow_digits_default_runs_end_to_end(tmp_path, capsys):
    workdir = str(tmp_path / 'glow')
    small = ['--set', 'model_kwargs.flow_steps=1', '--set', 'model_kwargs.hidden=8', '--set', 'log_every=2',
             '--set', 'checkpoint_every=2']
    summary = runner.main('glow', ['--workdir', workdir, '--steps', '3', '--batch-size', '16'] + small)
    assert summary['step'] == 3
    assert 'test bits/dim:' in capsys.readouterr().out
    assert [r['step'] for r in read_metrics(os.path.join(workdir, 'metrics.jsonl')) if 'loss' in r] == [2, 3]
    assert any(name.endswith('.png') for name in os.listdir(os.path.join(workdir, 'samples')))
    assert sorted(os.listdir(os.path.join(workdir, 'checkpoints'))) == ['2', '3']
    assert load_trained(workdir).step == 3

    again = runner.main('glow', ['--workdir', workdir, '--steps', '3', '--batch-size', '16'] + small)
    assert again['complete']
    assert 'is complete' in capsys.readouterr().out
