"""The Task protocol carries more than a flow: a GAN-shaped, an EBM-shaped and a refitting
toy task train through the loop, give the same result on 4 devices as on 1, and resume exactly."""

import jax
import numpy as np
import pytest

from tests.train.tiny import assert_trees_close, assert_trees_equal, state_of
from zoo.train import Config, OptimizerConfig, read_metrics, train

TASKS = [
    'tests.train.toy_tasks:GanShapedTask',
    'tests.train.toy_tasks:EbmShapedTask',
    'tests.train.toy_tasks:RefitTask',
]


class Crash(Exception):
    """Stands for a killed process: raised by a hook once a checkpoint is on disk."""


def toy_config(task, **changes):
    base = dict(
        task=task,
        dataset='digits',
        steps=8,
        batch_size=16,
        eval_batch_size=100,
        log_every=2,
        eval_every=0,
        sample_every=0,
        checkpoint_every=4,
        optimizer=OptimizerConfig(lr=1e-2, warmup_steps=0),
    )
    return Config(**{**base, **changes})


@pytest.mark.parametrize('task', TASKS)
def test_four_devices_equal_one(task, tmp_path):
    assert jax.device_count() == 4
    train(toy_config(task), tmp_path / 'one', devices=jax.devices()[:1])
    train(toy_config(task), tmp_path / 'four')
    one, four = state_of(tmp_path / 'one'), state_of(tmp_path / 'four')
    assert_trees_close(one.params, four.params, rtol=1e-5, atol=1e-6)
    assert_trees_close(one.aux, four.aux, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('task', TASKS)
def test_crash_and_resume_is_bit_identical(task, tmp_path):
    def crash_at_6(step, state, checkpointer):
        if step == 6:
            checkpointer.wait()
            raise Crash

    with pytest.raises(Crash):
        train(toy_config(task), tmp_path / 'crashed', hooks=(crash_at_6,))
    resumed = train(toy_config(task), tmp_path / 'crashed')
    train(toy_config(task), tmp_path / 'straight')
    assert resumed['step'] == 8
    crashed, straight = state_of(tmp_path / 'crashed'), state_of(tmp_path / 'straight')
    assert_trees_equal(crashed.params, straight.params)
    assert_trees_equal(crashed.aux, straight.aux)
    assert_trees_equal(crashed.opt_state, straight.opt_state)
    # The refit at the checkpoint step (4) ran twice in the crashed run; metrics.jsonl keeps it once.
    refits = lambda run: [r for r in read_metrics(tmp_path / run / 'metrics.jsonl') if r.get('event') == 'refit']
    assert refits('crashed') == refits('straight')
    assert [r['step'] for r in refits('straight')] == ([4, 6] if task.endswith('RefitTask') else [])


def test_gan_task_trains_both_networks_and_is_not_watched(tmp_path):
    config = toy_config(TASKS[0], sample_every=8)
    summary = train(config, tmp_path)
    records = [r for r in read_metrics(tmp_path / 'metrics.jsonl') if 'critic_loss' in r]
    assert [r['step'] for r in records] == [2, 4, 6, 8]
    assert all(np.isfinite(r['generator_loss']) for r in records)
    assert np.isfinite(summary['test']['critic_real'])
    state = state_of(tmp_path)
    assert set(state.params) == {'generator', 'critic'} == set(state.opt_state)
    assert (tmp_path / 'samples' / 'samples_step0000008.png').exists()


def test_ebm_task_rewrites_its_buffer(tmp_path):
    train(toy_config(TASKS[1], steps=4), tmp_path)
    initial = jax.random.uniform(jax.random.split(jax.random.PRNGKey(0), 3)[1], (32, 64))
    buffer = np.asarray(state_of(tmp_path).aux['buffer'])
    assert buffer.shape == (32, 64)
    changed = np.any(np.abs(buffer - np.asarray(initial)) > 1e-6, axis=1)
    assert 0 < changed.sum() <= 32  # rows drawn into a step were refined and written back


def test_refit_runs_before_its_steps_over_the_whole_training_split(tmp_path, capsys):
    """With next to no learning (lr 1e-9) the centre is the refit's: the mean of every training image,
    the padded last evaluation batch masked out; one refit per listed step."""
    from zoo.data import open_dataset

    config = toy_config(TASKS[2], steps=5, optimizer=OptimizerConfig(lr=1e-9, warmup_steps=0))
    train(config, tmp_path)
    state = state_of(tmp_path)
    digits = open_dataset('digits')
    split = digits.splits['train']
    images = split.read_at(np.arange(len(split)))['image']
    assert len(images) % config.eval_batch_size != 0  # the last batch is padded
    mean = images.reshape(len(images), -1).astype(np.float64).mean(axis=0) / (digits.info.num_levels - 1)
    np.testing.assert_allclose(state.params['centre'], mean, atol=1e-6)
    assert int(state.aux['refits']) == 1  # step 4 only: step 6 is past the run's end
    out = capsys.readouterr()
    assert f'step 4: refit, examples {len(images)}' in out.out + out.err
    assert 'refit steps [6] are past the last step (4): they will not run' in out.out + out.err
    records = [r for r in read_metrics(tmp_path / 'metrics.jsonl') if r.get('event') == 'refit']
    assert records == [{'step': 4, 'event': 'refit', 'refit/examples': len(images)}]
