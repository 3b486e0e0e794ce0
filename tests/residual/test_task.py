"""ResidualFlowTask: a few real train steps lower the loss and advance the power-iteration vectors."""

from types import SimpleNamespace

import jax
import numpy as np
import pytest

from zoo.residual.task import ResidualFlowTask
from zoo.train.config import Config, ConfigError, OptimizerConfig
from zoo.train.step import train_step

INFO = SimpleNamespace(name='tiny', image_shape=(4, 4, 1), num_levels=17, num_classes=None)


def _config(**model):
    return Config(
        task='zoo.residual.task:ResidualFlowTask',
        steps=10,
        model=dict(scales=1, blocks=2, hidden=(8, 8), **model),
        optimizer=OptimizerConfig(lr=1e-2, warmup_steps=0),
    )


@pytest.fixture(scope='module')
def trained():
    task = ResidualFlowTask(INFO, _config(), num_samples=4, temperatures=(1.0,))
    pixels = jax.random.randint(jax.random.key(0), (16, 4, 4, 1), 0, 4) * 4  # a few coarse levels
    batch = {'image': pixels.astype(np.uint8)}
    state = task.init(jax.random.key(1), batch)
    step = jax.jit(lambda s, b: train_step(task, s, b))
    first = state
    losses = []
    for _ in range(10):
        state, metrics = step(state, batch)
        losses.append(float(metrics['loss']))
    return task, first, state, batch, losses


def test_loss_drops_and_power_iteration_vectors_move(trained):
    task, first, state, _, losses = trained
    assert losses[-1] < losses[0] - 0.1
    before, after = jax.tree.leaves(first.aux['flow']['spectral']), jax.tree.leaves(state.aux['flow']['spectral'])
    assert any(not np.allclose(a, b) for a, b in zip(before, after))


def test_eval_and_samples(trained):
    task, _, state, batch, _ = trained
    batch = {**batch, 'mask': np.ones(16, bool)}
    values = jax.jit(task.eval_step)(state, batch, jax.random.key(2))
    assert values['bpd'].shape == (16,) and np.all(np.isfinite(values['bpd']))
    sheets = task.visualize(state, batch, jax.random.key(3))
    assert list(sheets) == ['samples_T1.00'] and sheets['samples_T1.00'].dtype == np.uint8
    pixels = task.sample(state, jax.random.key(4), 3)
    assert pixels.shape == (3, 4, 4, 1) and pixels.dtype == np.uint8


def test_bad_model_settings_name_the_fields():
    with pytest.raises(ConfigError, match=r"ResidualImageFlow has no settings \['depth'\]; it takes"):
        ResidualFlowTask(INFO, _config(depth=3))


def test_density_task_trains_a_residual_flow_on_points_and_advances_its_vectors():
    from zoo import data
    from zoo.flows.task import DensityTask
    from zoo.residual.models import ResidualFlow2D

    task = DensityTask(
        data.dataset_info('toy2d:eight_gaussians'),
        Config(optimizer=OptimizerConfig(lr=1e-2)),
        model=ResidualFlow2D(blocks=2, hidden=(16, 16)),
    )
    points = data.open_dataset('toy2d:eight_gaussians').splits['train'].read_at(np.arange(64))
    state = task.init(jax.random.key(0), points)
    new, metrics = jax.jit(lambda s: train_step(task, s, points))(state)
    assert np.isfinite(float(metrics['loss']))
    before, after = jax.tree.leaves(state.aux['flow']['spectral']), jax.tree.leaves(new.aux['flow']['spectral'])
    assert any(not np.allclose(a, b) for a, b in zip(before, after))


def test_the_exact_evaluation_log_det_is_refused_on_large_images_before_training():
    info = SimpleNamespace(**{**vars(INFO), 'image_shape': (32, 32, 1)})
    with pytest.raises(ConfigError, match=r"dense 1024x1024 Jacobian.*eval_logdet='roulette'.*32x32x1 images"):
        ResidualFlowTask(info, _config())
    ResidualFlowTask(info, _config(), eval_logdet='roulette')  # the estimator it names is accepted
