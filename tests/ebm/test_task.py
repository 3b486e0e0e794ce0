"""EBMTask: a few steps lower the loss, four devices train like one, sheets and errors; the same
task on 2-D points through the loop."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests.ebm.fakes import TinyImages, run_steps
from zoo import images
from zoo.ebm.task import EBMTask
from zoo.train import Config, ConfigError, OptimizerConfig, train
from zoo.train.checkpoint import load_trained

DATA = TinyImages(num=64)


def tiny_config(**task_kwargs) -> Config:
    kwargs = dict(
        langevin_steps=5, step_size=1.0, noise_scale=0.01, alpha=0.01, buffer_size=64, num_samples=4, sample_steps=3
    )
    return Config(
        task='ebm',
        model=dict(features=(8, 8), hidden=16),
        task_kwargs={**kwargs, **task_kwargs},
        batch_size=16,
        steps=20,
        optimizer=OptimizerConfig(lr=3e-3, b1=0.0, warmup_steps=0),
    )


def make_task(**task_kwargs):
    config = tiny_config(**task_kwargs)
    return EBMTask(DATA.info, config, **config.task_kwargs)


def batches(n, batch_size=16):
    stream = DATA.train_batches(batch_size, seed=0)
    return [next(stream) for _ in range(n)]


@pytest.fixture(scope='module')
def trained():
    """Twenty steps on one device: (task, state, per-step metrics)."""
    task = make_task()
    state, metrics = run_steps(task, batches(20), num_devices=1)
    return task, state, metrics


def test_a_few_steps_lower_the_loss_and_separate_data_from_noise(trained):
    task, state, metrics = trained
    losses = [float(m['loss']) for m in metrics]
    # Spectral normalisation keeps energies small: the loss starts at ~0 and goes negative.
    assert np.mean(losses[-10:]) < np.mean(losses[:3]) - 0.01, losses
    values = task.eval_step(state, DATA.batch(np.arange(16)), jax.random.PRNGKey(0))
    summary = task.summarize({k: np.asarray(v) for k, v in values.items()})
    assert summary['energy_gap'] > 0 and values['energy_data'].shape == (16,)
    assert 0.7 < np.mean([float(m['reused']) for m in metrics]) <= 1.0


def test_the_buffer_holds_the_chains_ends(trained):
    task, state, _ = trained
    buffer = np.asarray(state.aux['buffer'])
    assert buffer.shape == (64, 4, 4, 1) and buffer.min() >= 0 and buffer.max() <= 1


def test_four_devices_train_like_one():
    task = make_task()
    one, metrics_one = run_steps(task, batches(2), num_devices=1)
    four, metrics_four = run_steps(task, batches(2), num_devices=4)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5), one.params, four.params)
    np.testing.assert_allclose(one.aux['buffer'], four.aux['buffer'], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(
        [m['loss'] for m in metrics_one], [m['loss'] for m in metrics_four], rtol=1e-4, atol=1e-6
    )


def test_mala_negatives_report_an_acceptance_rate():
    task = make_task(sampler='mala', step_size=1e-3)
    _, metrics = run_steps(task, batches(1), num_devices=1)
    assert 0.0 < float(metrics[0]['acceptance']) <= 1.0


def test_visualize_gives_sample_and_buffer_sheets(trained):
    task, state, _ = trained
    sheets = task.visualize(state, DATA.batch(np.arange(8)), jax.random.PRNGKey(0))
    assert sorted(sheets) == ['buffer', 'samples']
    for sheet in sheets.values():
        assert sheet.dtype == np.uint8 and sheet.shape == (11, 11, 1)  # 2 x 2 cells of 4 pixels, 1-pixel pad
    samples = task.sample(state, jax.random.PRNGKey(1), 5)
    assert samples.shape == (5, 4, 4, 1) and samples.dtype == np.uint8 and samples.max() < 17


def test_buffer_samples_are_distinct_buffer_entries(trained):
    """sample_source='buffer' hands the metrics the persistent chains' ends, not fresh chains."""
    task, state, _ = trained
    buffer_task = make_task(sample_source='buffer')
    samples = buffer_task.sample(state, jax.random.PRNGKey(2), 10)
    entries = np.asarray(images.unit_to_pixels(state.aux['buffer'], DATA.info.num_levels)).reshape(64, -1)
    assert samples.shape == (10, 4, 4, 1) and samples.dtype == np.uint8
    flat = samples.reshape(10, -1)
    matches = [np.flatnonzero((entries == s).all(1)) for s in flat]
    assert all(len(m) > 0 for m in matches)
    assert len({int(m[0]) for m in matches}) == 10  # drawn without replacement
    np.testing.assert_array_equal(samples, task.sample(state, jax.random.PRNGKey(2), 10, source='buffer'))
    with pytest.raises(ValueError, match='replay buffer of 64'):
        buffer_task.sample(state, jax.random.PRNGKey(2), 65)


@pytest.mark.parametrize(
    'kwargs, message',
    [
        (dict(sampler='hmc'), 'unknown sampler'),
        (dict(buffer_size=8), 'smaller than the batch'),
        (dict(langevin_steps=0), 'langevin_steps >= 1'),
        (dict(sample_source='ema'), 'unknown sample_source'),
    ],
)
def test_bad_settings_are_config_errors(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        make_task(**kwargs)


def test_bad_model_settings_are_config_errors():
    config = tiny_config()
    config.model = dict(width=3)
    with pytest.raises(ConfigError, match="ConvEnergy has no settings \\['width'\\]"):
        EBMTask(DATA.info, config)


def test_a_2d_ebm_trains_through_the_loop_and_puts_low_energy_on_the_data(tmp_path):
    """Eight Gaussians (radius 2.83): after a short run the centres sit lower than the origin and
    the far corners, and ``sample`` gives float32 points inside the box."""
    config = Config(
        task='ebm',
        dataset='toy2d:eight_gaussians',
        model=dict(hidden=(32, 32)),
        task_kwargs=dict(
            langevin_steps=5, step_size=0.01, noise_scale=None, alpha=0.1, buffer_size=256, sample_steps=5, box=4.0
        ),
        batch_size=64,
        steps=150,
        eval_batch_size=500,
        optimizer=OptimizerConfig(lr=3e-3, b1=0.0, warmup_steps=0),
        log_every=50,
        eval_every=0,
        sample_every=0,
        checkpoint_every=150,
    )
    summary = train(config, tmp_path)
    assert summary['validation']['energy_gap'] > 0
    run = load_trained(tmp_path)
    angles = 2 * np.pi * np.arange(8) / 8
    centres = 2 * np.sqrt(2) * np.stack([np.cos(angles), np.sin(angles)], -1)
    u = np.asarray(run.task.energy(run.state.variables('energy'))(jnp.asarray(centres, jnp.float32)))
    u_off = np.asarray(run.task.energy(run.state.variables('energy'))(jnp.array([[0.0, 0.0], [3.9, 3.9]])))
    assert u.mean() < u_off.min(), (u, u_off)
    points = run.task.sample(run.state, jax.random.PRNGKey(0), 50)
    assert points.shape == (50, 2) and points.dtype == np.float32 and np.abs(points).max() <= 4.0
    assert run.task.visualize(run.state, {'point': centres}, jax.random.PRNGKey(0)) == {}
