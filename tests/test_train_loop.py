"""The training loop end to end on a tiny stand-in flow: outputs, resume, divergence guard.

``TinyFlow`` (registered as model 'tiny') is also used by the resume and
distributed tests, which import it from here.
"""

import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from zoo import data
from zoo.flows import NICE, ActNorm, ChannelCoupling
from zoo.train import MODELS, Config, DivergenceError, load_trained, read_metrics, train

MODELS['tiny'] = 'tests.test_train_loop:TinyFlow'

NAN_PIXEL = 200  # digits have 17 levels; a pixel this large marks an injected bad batch


class TinyFlow(NICE):
    """NICE with a flat ActNorm (data-dependent init) and two small affine couplings:
    fast to compile.

    A batch holding a pixel >= NAN_PIXEL gives a NaN loss, which is how the
    guard tests inject a divergence.
    """
    hidden: int = 16

    def setup(self):
        self.layers = [ActNorm()] + [ChannelCoupling(self.hidden, 'affine', parity=i, split='interleave',
                                                     net='mlp') for i in range(2)]

    def bits_per_dim(self, pixels, key):
        bpd = super().bits_per_dim(pixels, key)
        return bpd + jnp.where(jnp.max(pixels) >= NAN_PIXEL, jnp.nan, 0.0)


def tiny_config(**changes) -> Config:
    """A config that trains TinyFlow on digits in a few seconds."""
    base = dict(model='tiny', model_kwargs={'hidden': 16}, dataset='digits', steps=8, batch_size=16,
                lr=1e-2, warmup_steps=2, log_every=2, eval_every=0, sample_every=0, checkpoint_every=4,
                eval_batch_size=100, num_samples=4, temperatures=(0.5, 1.0))
    base.update(changes)
    return Config(**base)


def params_of(workdir):
    return load_trained(workdir, use_ema=False).variables['params']


def assert_trees_close(a, b, **tolerance):
    jax.tree.map(lambda x, y: np.testing.assert_allclose(np.asarray(x), np.asarray(y), **tolerance), a, b)


def test_train_writes_outputs_resumes_and_reports_complete(tmp_path):
    config = tiny_config()
    summary = train(config, tmp_path)
    assert summary['step'] == 8 and not summary['complete'] and np.isfinite(summary['test_bpd'])
    records = read_metrics(tmp_path / 'metrics.jsonl')
    assert [r['step'] for r in records if 'loss' in r] == [2, 4, 6, 8]
    assert records[-1] == {'step': 8, 'test_bpd': summary['test_bpd']}
    assert sorted(os.listdir(tmp_path / 'samples')) == ['step0000008_T0.50.png', 'step0000008_T1.00.png']
    assert sorted(os.listdir(tmp_path / 'checkpoints')) == ['4', '8']

    again = train(config, tmp_path)
    assert again['complete'] and again['step'] == 8 and again['test_bpd'] == summary['test_bpd']

    longer = train(tiny_config(steps=12), tmp_path)
    assert longer['step'] == 12 and not longer['complete']
    trained = load_trained(tmp_path)
    assert trained.step == 12 and trained.config.steps == 12
    bpd = trained.model.apply(trained.variables, data.digits_images('test')[:8], jax.random.PRNGKey(0),
                              method=trained.model.bits_per_dim)
    assert bpd.shape == (8,) and np.all(np.isfinite(bpd))


def batches_with_nan(bad_steps, once=True):
    """digits train stream whose batch at each step in ``bad_steps`` is poisoned (the first time only if ``once``)."""
    poisoned = set()

    def batches(start, size):
        stream = data.open_dataset('digits').train_batches(size, seed=0, start_step=start)
        for step, batch in enumerate(stream, start=start):
            batch = batch['image']
            if step in bad_steps and not (once and step in poisoned):
                poisoned.add(step)
                batch = batch.copy()
                batch[0, 0, 0, 0] = NAN_PIXEL
            yield batch

    return batches


def test_guard_restores_last_good_state_after_injected_nan(tmp_path):
    summary = train(tiny_config(steps=8), tmp_path, train_batches=batches_with_nan({4}))
    assert summary['step'] == 8 and np.isfinite(summary['test_bpd'])
    records = read_metrics(tmp_path / 'metrics.jsonl')
    events = [r for r in records if r.get('event') == 'divergence']
    assert len(events) == 1 and events[0]['step'] == 4 and events[0]['at_step'] == 6
    assert 'non-finite' in events[0]['reason'] and events[0]['lr_scale'] == 0.5
    assert records[-2]['lr_scale'] == 0.5
    trained = load_trained(tmp_path)
    assert all(np.all(np.isfinite(x)) for x in jax.tree.leaves(trained.variables))


def test_guard_gives_up_after_max_retries(tmp_path):
    with pytest.raises(DivergenceError, match='diverged at step 6 .* 2 times in a row'):
        train(tiny_config(guard_max_retries=2), tmp_path, train_batches=batches_with_nan({5}, once=False))
