"""experiments.sample_quality scores any trained task through load_trained and task.sample alone."""

import json
import os

import pytest

from experiments import sample_quality
from zoo.train import Config, OptimizerConfig, train


def tiny_gan(dataset: str, **task_kwargs) -> Config:
    return Config(
        task='hinge_gan',
        dataset=dataset,
        steps=2,
        batch_size=16,
        eval_batch_size=100,
        log_every=1,
        eval_every=0,
        sample_every=0,
        checkpoint_every=2,
        model=dict(generator=dict(hidden=8, depth=1), critic=dict(hidden=8, depth=1)),
        task_kwargs=dict(net='mlp', latent_dim=4, num_samples=4, **task_kwargs),
        optimizer=OptimizerConfig(lr=1e-3, warmup_steps=0),
    )


def test_an_image_run_gets_every_statistic_and_its_data_floor(tmp_path, capsys):
    workdir = str(tmp_path / 'gan')
    train(tiny_gan('digits'), workdir)
    sample_quality.main([workdir, '--num-samples', '50'])
    with open(os.path.join(workdir, 'sample_quality.json')) as f:
        result = json.load(f)
    assert result['task'] == 'hinge_gan' and result['num_samples'] == 50 and result['conditions'] == {}
    assert {'mmd2', 'coverage', 'histogram_tv', 'classifier_frechet', 'classifier_accuracy'} <= set(result)
    # Two steps of training are far from the data; the data's own floor is far below.
    assert result['classifier_frechet'] > result['data_floor']['classifier_frechet']
    assert os.path.exists(os.path.join(workdir, 'quality_samples.png'))
    assert 'hinge_gan step 2 | MMD^2' in capsys.readouterr().out


def test_a_point_run_gets_mmd(tmp_path):
    workdir = str(tmp_path / 'points')
    train(tiny_gan('toy2d:eight_gaussians'), workdir)
    result = sample_quality.evaluate(workdir, 100)
    assert set(result['data_floor']) == {'mmd2'} and result['mmd2'] > result['data_floor']['mmd2']


def test_conditions_parse_as_python_literals_or_strings():
    assert sample_quality.parse_conditions(['source=buffer', 'temperature=0.7']) == {
        'source': 'buffer',
        'temperature': 0.7,
    }
    with pytest.raises(SystemExit, match='NAME=VALUE'):
        sample_quality.parse_conditions(['buffer'])
