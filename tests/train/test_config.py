"""Config: nested overrides, per-network optimizers, and clear errors before anything compiles."""

import pytest

from zoo.train import Config, ConfigError, OptimizerConfig, override


def test_overrides_reach_nested_fields_and_keep_types():
    config = override(
        Config(),
        [
            'optimizer.lr=3e-4',
            'steps=10',
            'model.hidden=8',
            'optimizer.schedule=cosine',
            'task_kwargs.temperatures=(0.5,)',
            'optimizer.lr_groups.coupling=0.1',
            'optimizers.critic.lr=4e-4',
            'seconds=30',
            'image_size=None',
        ],
    )
    assert (config.optimizer.lr, config.steps, config.model, config.optimizer.schedule) == (
        3e-4,
        10,
        {'hidden': 8},
        'cosine',
    )
    assert config.task_kwargs == {'temperatures': (0.5,)} and config.optimizer.lr_groups == {'coupling': 0.1}
    assert isinstance(config.seconds, float) and config.seconds == 30.0
    assert config.optimizer_for('critic').lr == 4e-4 and config.optimizer_for('generator').lr == 3e-4
    assert config.optimizer_for('critic').schedule == 'cosine'  # the rest comes from `optimizer`
    assert Config().model == {} and Config().optimizer.lr == 1e-3  # defaults are not mutated


def test_lowercase_true_false_none_are_literals_not_truthy_strings():
    config = override(
        Config(), ['model.learned_split=false', 'model.learn_top=true', 'model.dtype=none', 'model.name=falsey']
    )
    assert config.model == {'learned_split': False, 'learn_top': True, 'dtype': None, 'name': 'falsey'}


@pytest.mark.parametrize(
    'assignment, message',
    [
        ('learning_rate=1', "unknown config field 'learning_rate'"),
        ('optimizer.learning_rate=1', "OptimizerConfig has no 'learning_rate'"),
        ('steps=ten', r"steps='ten': expected int, got str"),
        ('steps=2.5', 'steps=2.5: expected int, got float'),
        ('optimizer.lr=abc', r"optimizer.lr='abc': expected float"),
        ('optimizers.critic.lr=abc', r"optimizers.critic.lr='abc': expected float"),
        ('optimizers.critic.lrr=1', r"optimizers.critic: unknown optimizer fields \['lrr'\]"),
        ('batch_size=0', 'batch_size must be >= 1, got 0'),
        ('optimizer.name=sgdx', "optimizer.name='sgdx': use adam or adamax"),
        ('optimizer.schedule=linear', 'use constant or cosine'),
        ('validation_fraction=1.5', r'validation_fraction must be in \[0, 1\)'),
        ('steps', 'is not of the form field=value'),
        ('steps.x=1', "cannot set 'steps.x'"),
    ],
)
def test_bad_overrides_are_clear_errors(assignment, message):
    with pytest.raises(ConfigError, match=message):
        override(Config(), [assignment])


def test_round_trip_through_json_and_stale_fields():
    config = Config(
        task='nice',
        model={'hidden': 4},
        optimizer=OptimizerConfig(lr=0.5, ema_decay=0.9),
        optimizers={'flow': {'lr': 0.25}},
    )
    again = Config.from_dict(config.to_dict())
    assert again == config and isinstance(again.optimizer, OptimizerConfig)
    with pytest.raises(ConfigError, match=r"unknown config fields \['model_kwargs'\]"):
        Config.from_dict({**config.to_dict(), 'model_kwargs': {}})
