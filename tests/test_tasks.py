"""zoo.tasks: the registry, and build_model's checks of config.model before anything compiles."""

import numpy as np
import pytest

from tests.train.tiny import tiny_config
from zoo import data
from zoo.flows.nice import NICE
from zoo.tasks import build_model, build_task
from zoo.train import ConfigError, override, train

INFO = data.dataset_info('digits')


@pytest.mark.parametrize(
    'assignment, message',
    [
        ('model.hidden=-1', r'model.hidden=-1: must be >= 1'),
        ('model.hidden=2.5', r'model.hidden=2.5: expected an integer'),
        ('model.hidden=True', r'model.hidden=True: expected an integer'),
        ('model.prior=3', r'model.prior=3: expected a string'),
        ('model.nonexistent=3', r"model: NICE has no settings \['nonexistent'\]; it takes \[.*'hidden'"),
    ],
)
def test_bad_model_settings_are_one_line_naming_the_field(assignment, message):
    config = override(tiny_config(), [assignment])
    with pytest.raises(ConfigError, match=message) as error:
        build_task(config, INFO)
    assert '\n' not in str(error.value)


def test_dataset_facts_cannot_be_set_and_lists_become_tuples():
    with pytest.raises(ConfigError, match=r"\['num_levels'\] come from the dataset"):
        build_model(NICE, {'num_levels': 3}, image_shape=(8, 8, 1), num_levels=17)
    from zoo.residual.models import ResidualImageFlow

    model = build_model(ResidualImageFlow, {'hidden': [8, 8]}, image_shape=(8, 8, 1), num_levels=17)
    assert model.hidden == (8, 8)


def test_constructor_errors_become_one_line_config_errors():
    with pytest.raises(
        ConfigError, match=r'model for Glow: Glow with 4 scales .*divisible by 16, got \(8, 8, 1\); it takes'
    ):
        build_task(tiny_config(task='glow', model={'scales': 4}), INFO)


def test_model_settings_for_a_task_that_reads_none_are_an_error():
    config = tiny_config(task='tests.train.toy_tasks:GanShapedTask', model={'nonexistent': 3}, task_kwargs={})
    with pytest.raises(ConfigError, match=r"does not read the model settings \['nonexistent'\]; remove them"):
        build_task(config, INFO)


def test_a_dataset_smaller_than_one_batch_is_an_error_naming_the_sizes(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(
        tmp_path / 'small.npz',
        x_train=rng.integers(0, 256, (32, 8, 8), dtype=np.uint8),
        x_test=rng.integers(0, 256, (8, 8, 8), dtype=np.uint8),
    )
    config = tiny_config(dataset=f'npz:{tmp_path / "small.npz"}', batch_size=128)
    with pytest.raises(ConfigError, match=r'has 29 examples, fewer than one batch \(batch_size 128\)'):
        train(config, tmp_path / 'run')


def test_density_is_registered():
    task = build_task(
        tiny_config(task='density', model={'hidden': 8}, task_kwargs={}), data.dataset_info('toy2d:two_moons')
    )
    assert task.model.dim == 2 and task.model.hidden == 8


def test_typed_task_settings_are_checked():
    with pytest.raises(ConfigError, match=r'task_kwargs.num_samples=-4: must be >= 1'):
        build_task(override(tiny_config(), ['task_kwargs.num_samples=-4']), INFO)
    with pytest.raises(ConfigError, match=r'task_kwargs.flow=3: expected a string'):
        build_task(override(tiny_config(), ['task_kwargs.flow=3']), INFO)


def test_config_fields_keep_their_types():
    with pytest.raises(ConfigError, match=r'batch_size=2.5: expected int'):
        tiny_config(batch_size=2.5).validate()
