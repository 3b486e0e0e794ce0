"""Every VAE-family experiment config (digits defaults and paper/seed configs) builds its task."""

import pytest

from experiments import configs
from zoo import data
from zoo.tasks import build_task

FAMILIES = {
    'vae': 'iwae_nll',
    'vae_cluster': 'cluster_accuracy',
    'vib': 'accuracy',
    'infomax': 'probe_accuracy',
    'fvae': 'bpd',
}


@pytest.mark.parametrize('name', sorted(FAMILIES))
def test_every_config_builds_its_task(name, npz_next_to_configs):
    names = configs.names(name)
    assert names[0] == 'digits' and {'mnist', 'fashion_mnist', 'cifar10', 'celeba'} <= set(names)
    for config_name in names:
        config = configs.get_config(name, config_name).validate()
        task = build_task(config, data.dataset_info(config.dataset))
        assert task.headline == FAMILIES[name] and config.task == name, config_name
