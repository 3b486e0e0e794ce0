"""The training loop end to end on a tiny flow: outputs, resume, complete runs, guard, budget."""

import os
import struct
import types

import jax
import numpy as np
import pytest

from tests.train.tiny import NanFlowTask, PoisonedDataset, state_of, tiny_config
from zoo import data
from zoo.flows.task import FlowTask
from zoo.tasks import build_task
from zoo.train import DivergenceError, load_trained, loop, read_metrics, train


def test_train_writes_outputs_resumes_and_reports_complete(tmp_path):
    config = tiny_config(sample_every=8)
    summary = train(config, tmp_path)
    assert (
        summary['step'] == 8 and summary['first_step'] == 0 and not summary['complete'] and summary['headline'] == 'bpd'
    )
    assert np.isfinite(summary['test']['bpd']) and np.isfinite(summary['validation']['bpd'])
    records = read_metrics(tmp_path / 'metrics.jsonl')
    assert [r['step'] for r in records if 'loss' in r] == [2, 4, 6, 8]
    assert {'step': 8, 'test/bpd': summary['test']['bpd']}.items() <= records[-2].items()
    assert sorted(os.listdir(tmp_path / 'samples')) == [
        'samples_T0.50_step0000008.png',
        'samples_T1.00_step0000008.png',
    ]
    assert sorted(os.listdir(tmp_path / 'checkpoints')) == ['4', '8']
    assert any(name.startswith('events.out.tfevents') for name in os.listdir(tmp_path))

    again = train(config, tmp_path)
    assert again['complete'] and again['step'] == 8 and again['test'] == summary['test']

    longer = train(tiny_config(steps=12), tmp_path)
    assert longer['step'] == 12 and longer['first_step'] == 8 and not longer['complete']
    trained = load_trained(tmp_path)
    assert trained.step == 12 and trained.config.steps == 12
    pixels = data.digits_images('test')[:8]
    values = trained.task.eval_step(trained.state, {'image': pixels}, jax.random.PRNGKey(0))
    assert values['bpd'].shape == (8,) and np.all(np.isfinite(values['bpd']))


def tensorboard_scalars(workdir) -> dict:
    """{tag: [(step, value)]} from the event file (TFRecord framing: length, crc, event, crc)."""
    from tensorboardX.proto import event_pb2

    [name] = [n for n in os.listdir(workdir) if n.startswith('events.out.tfevents')]
    scalars = {}
    with open(os.path.join(workdir, name), 'rb') as f:
        while header := f.read(12):
            event = event_pb2.Event.FromString(f.read(struct.unpack('<Q', header[:8])[0]))
            f.read(4)
            for value in event.summary.value:
                if value.HasField('simple_value'):
                    scalars.setdefault(value.tag, []).append((event.step, value.simple_value))
    return scalars


def test_tensorboard_events_hold_the_scalars(tmp_path):
    summary = train(tiny_config(steps=4), tmp_path)
    scalars = tensorboard_scalars(tmp_path)
    assert [step for step, _ in scalars['train/loss']] == [2, 4]
    assert scalars['test/bpd'] == [(4, pytest.approx(summary['test']['bpd']))]


def test_wall_time_budget_stops_early_and_reports_step_time(tmp_path):
    summary = train(tiny_config(steps=100_000, seconds=1e-9), tmp_path)
    assert summary['step'] == 1 and np.isfinite(summary['test']['bpd'])
    assert os.listdir(tmp_path / 'checkpoints') == ['1']


def test_wall_time_budget_starts_after_the_first_step_compiles(tmp_path, monkeypatch):
    # A fake clock: the first step (compilation) takes 100 s, every later one 1 s.
    clock = [0.0]
    monkeypatch.setattr(loop, 'time', types.SimpleNamespace(time=lambda: clock[0]))
    make_step = loop.make_train_step

    def timed_step(task, mesh):
        step_fn = make_step(task, mesh)

        def step(state, batch):
            clock[0] += 1.0 if clock[0] else 100.0
            return step_fn(state, batch)

        return step

    monkeypatch.setattr(loop, 'make_train_step', timed_step)
    summary = train(tiny_config(steps=100, seconds=10.0, log_every=100), tmp_path)
    assert summary['step'] == 11  # 10 s of 1 s steps after the compiling one, not 1 step


def test_wall_time_budget_times_the_steps_run_not_the_steps_queued(tmp_path, monkeypatch):
    # A fake clock: dispatch is free and returns at once, as JAX's does; a queued step's 1 s
    # passes when the loop waits for it.  A loop that never waits would queue all 100 steps.
    clock, queued = [0.0], [0]
    monkeypatch.setattr(loop, 'time', types.SimpleNamespace(time=lambda: clock[0]))
    make_step = loop.make_train_step

    def queueing_step(task, mesh):
        step_fn = make_step(task, mesh)

        def step(state, batch):
            queued[0] += 1
            return step_fn(state, batch)

        return step

    def wait_for(_):  # everything queued before the newest step has run
        clock[0] += queued[0] - 1
        queued[0] = 1

    monkeypatch.setattr(loop, 'make_train_step', queueing_step)
    monkeypatch.setattr(loop, 'wait_for', wait_for)
    summary = train(tiny_config(steps=100, seconds=10.0, log_every=100), tmp_path)
    assert summary['step'] == 11  # 10 steps run in the budget, the 11th in flight


def test_median_step_time_skips_the_compiling_window(tmp_path):
    summary = train(tiny_config(steps=8, log_every=2), tmp_path)
    windows = [r['step_time'] for r in read_metrics(tmp_path / 'metrics.jsonl') if 'loss' in r]
    assert summary['step_time'] == pytest.approx(float(np.median(windows[1:])))


def nan_task(config):
    return NanFlowTask(data.open_dataset('digits').info, config, flow='nice', temperatures=(1.0,), num_samples=4)


def test_guard_restores_last_good_state_after_injected_nan(tmp_path):
    config = tiny_config(steps=8)
    dataset = PoisonedDataset(data.open_dataset('digits'), {4})
    summary = train(config, tmp_path, task=nan_task(config), dataset=dataset)
    assert summary['step'] == 8 and np.isfinite(summary['test']['bpd'])
    records = read_metrics(tmp_path / 'metrics.jsonl')
    events = [r for r in records if r.get('event') == 'divergence']
    assert len(events) == 1 and events[0]['step'] == 4 and events[0]['at_step'] == 6
    assert 'non-finite loss' in events[0]['reason'] and events[0]['lr_scale'] == 0.5
    assert [r['lr_scale'] for r in records if 'loss' in r][-1] == 0.5
    assert all(np.all(np.isfinite(x)) for x in jax.tree.leaves(state_of(tmp_path).params))


def test_guard_gives_up_after_max_retries(tmp_path):
    config = tiny_config(guard_max_retries=2)
    dataset = PoisonedDataset(data.open_dataset('digits'), {5}, once=False)
    with pytest.raises(DivergenceError, match='diverged at step 6 .* 2 times in a row'):
        train(config, tmp_path, task=nan_task(config), dataset=dataset)


def test_task_from_an_import_path_and_bad_task_settings(tmp_path):
    info = data.open_dataset('digits').info
    config = tiny_config(task='zoo.flows.task:FlowTask', task_kwargs={'flow': 'nice'})
    assert type(build_task(config, info)).__name__ == 'FlowTask'
    with pytest.raises(ValueError, match="unknown task 'flwo'"):
        build_task(tiny_config(task='flwo'), info)
    with pytest.raises(ValueError, match=r"has no settings \['temperature'\]"):
        build_task(tiny_config(task_kwargs={'temperature': 1.0}), info)
    with pytest.raises(ValueError, match=r"NICE has no settings \['hiden'\]"):
        build_task(tiny_config(model={'hiden': 3}), info)


class RecordingFlowTask(FlowTask):
    """A flow task that keeps every batch ``visualize`` was given."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.seen = []

    def visualize(self, state, batch, rng):
        self.seen.append(batch)
        return super().visualize(state, batch, rng)


def test_visualize_gets_the_same_validation_batch_every_time(tmp_path):
    config = tiny_config(steps=4, sample_every=2)
    dataset = data.open_dataset('digits')
    task = RecordingFlowTask(dataset.info, config, flow='nice', temperatures=(1.0,), num_samples=4)
    train(config, tmp_path, task=task, dataset=dataset)
    assert len(task.seen) == 2  # at step 2, and at the end
    first = next(dataset.eval_batches(config.batch_size, 'validation', process_index=0, process_count=1))
    for batch in task.seen:
        assert set(batch) == {'image', 'label', 'index'}
        assert all(isinstance(v, np.ndarray) for v in batch.values())
        np.testing.assert_array_equal(batch['image'], first['image'])
        np.testing.assert_array_equal(batch['index'], np.arange(config.batch_size))
    assert os.path.exists(tmp_path / 'samples')


def test_visualize_gets_a_train_batch_without_a_validation_split(tmp_path):
    config = tiny_config(steps=2, validation_fraction=0.0)
    dataset = data.open_dataset('digits', validation_fraction=0.0)
    task = RecordingFlowTask(dataset.info, config, flow='nice', temperatures=(1.0,), num_samples=4)
    train(config, tmp_path, task=task, dataset=dataset)
    first = next(dataset.eval_batches(config.batch_size, 'train', process_index=0, process_count=1))
    np.testing.assert_array_equal(task.seen[-1]['image'], first['image'])
