"""The i-ResNet configs build their task, and the toy-density comparison writes its figure and numbers."""

import json

import pytest

from experiments import configs, toy_densities
from zoo.data import dataset_info
from zoo.tasks import build_task


@pytest.mark.parametrize('name', configs.names('iresnet'))
def test_every_iresnet_config_builds_its_task(name):
    config = configs.get_config('iresnet', name)
    task = build_task(config.validate(), dataset_info(config.dataset))
    assert task.model.coeff == 0.9 and config.steps > 0


def test_cifar10_config_follows_the_paper():
    model = configs.get_config('iresnet', 'cifar10').model
    assert (model['levels'], model['blocks'], model['hidden'], model['num_terms']) == (3, 16, (512, 512), 5)


def test_toy_densities_writes_png_and_log_likelihoods(tmp_path):
    results = toy_densities.run(str(tmp_path), densities=('eight_gaussians',), steps=2, batch_size=32,
                                resolution=8)
    saved = json.loads((tmp_path / 'toy_densities.json').read_text())
    assert set(saved['results']['eight_gaussians']) == {'coupling flow', 'i-ResNet'}
    assert saved['results'] == json.loads(json.dumps(results))
    assert (tmp_path / 'toy_densities.png').stat().st_size > 0
    sizes = [r['params'] for r in results['eight_gaussians'].values()]
    assert max(sizes) < 1.1 * min(sizes)  # the two contenders are of about equal size
