"""The replay buffer keeps its size and reuse rate, and is checkpointed with the train state."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests.ebm.fakes import TinyImages, saved_state
from zoo.ebm import replay_buffer
from zoo.train import Config, OptimizerConfig, Task, TrainState, train
from zoo.train.optim import build_optimizers


def test_buffer_starts_as_uniform_noise_in_bounds():
    buffer = replay_buffer.init_buffer(jax.random.PRNGKey(0), 500, (3, 2), low=-1.0, high=2.0)
    assert buffer.shape == (500, 3, 2) and buffer.dtype == jnp.float32
    assert float(buffer.min()) >= -1.0 and float(buffer.max()) <= 2.0
    # U[-1, 2] has mean 1/2 and sd 3/sqrt(12); 3000 values.
    assert abs(float(buffer.mean()) - 0.5) < 5 * (3 / np.sqrt(12)) / np.sqrt(buffer.size)


def test_draw_reuses_with_the_given_probability_and_store_keeps_the_size():
    size, batch, reuse_prob, rounds = 200, 50, 0.95, 40
    buffer = replay_buffer.init_buffer(jax.random.PRNGKey(0), size, (2,), low=10.0, high=11.0)
    draw = jax.jit(replay_buffer.draw, static_argnums=2)
    reused_total = 0
    for r in range(rounds):
        x0, slots, reused = draw(buffer, jax.random.PRNGKey(r), batch, reuse_prob, 0.0, 1.0)
        assert len(np.unique(np.asarray(slots))) == batch  # distinct slots: no write collisions
        reused = np.asarray(reused)
        # Reused starts are the buffer's rows; fresh ones are noise from U[0, 1).
        np.testing.assert_array_equal(np.asarray(x0)[reused], np.asarray(buffer)[np.asarray(slots)][reused])
        assert np.all(np.asarray(x0)[~reused] < 1.0)
        reused_total += reused.sum()
        buffer = replay_buffer.store(buffer, slots, x0 + 100.0)
        assert buffer.shape == (size, 2)
        np.testing.assert_array_equal(np.asarray(buffer)[np.asarray(slots)], np.asarray(x0) + 100.0)
    n = batch * rounds
    assert abs(reused_total / n - reuse_prob) < 5 * np.sqrt(reuse_prob * (1 - reuse_prob) / n)


def test_bad_draws_and_stores_are_errors():
    buffer = jnp.zeros((8, 2))
    with pytest.raises(ValueError, match='buffer of 8 samples'):
        replay_buffer.draw(buffer, jax.random.PRNGKey(0), 9)
    with pytest.raises(ValueError, match='reuse_prob must be in'):
        replay_buffer.draw(buffer, jax.random.PRNGKey(0), 4, reuse_prob=1.5)
    with pytest.raises(ValueError, match='cannot store samples of shape'):
        replay_buffer.store(buffer, jnp.arange(2), jnp.zeros((2, 3)))
    with pytest.raises(ValueError, match='buffer size must be >= 1'):
        replay_buffer.init_buffer(jax.random.PRNGKey(0), 0, (2,))


class BufferTask(Task):
    """A stand-in task whose only carried state is a replay buffer moved towards the data.

    Every step draws chains, moves them halfway to the batch mean, stores them and
    fits one scalar (so an optimizer state is checkpointed too).
    """

    watch = None

    def __init__(self, info, config):
        self.shape = tuple(info.image_shape)
        self.optimizers = build_optimizers(config, ('mean',))

    def init(self, rng, batch):
        buffer = replay_buffer.init_buffer(jax.random.fold_in(rng, 1), 32, self.shape)
        return TrainState.create(rng, {'mean': jnp.zeros(())}, self.optimizers, aux={'buffer': buffer})

    def train_step(self, state, batch, rng):
        x = batch['image'].astype(jnp.float32) / 16.0
        x0, slots, _ = replay_buffer.draw(state.aux['buffer'], rng, x.shape[0])
        buffer = replay_buffer.store(state.aux['buffer'], slots, 0.5 * (x0 + x.mean(0)))
        loss, grad = jax.value_and_grad(lambda m: jnp.square(m - x.mean()))(state.params['mean'])
        state = state.apply_gradients('mean', grad)
        return state.replace(aux={'buffer': buffer}), {'loss': loss}

    def eval_step(self, state, batch, rng):
        return {'loss': jnp.zeros(batch['image'].shape[0])}


class Killed(Exception):
    pass


def buffer_config(**changes):
    base = dict(
        task='tests.ebm.test_replay_buffer:BufferTask',
        steps=10,
        batch_size=8,
        eval_batch_size=32,
        optimizer=OptimizerConfig(lr=0.1, warmup_steps=0),
        log_every=2,
        eval_every=0,
        sample_every=0,
        checkpoint_every=4,
    )
    return Config(**{**base, **changes})


def test_buffer_survives_a_killed_and_resumed_run(tmp_path):
    def kill_at_6(step, state, checkpointer):
        if step == 6:
            checkpointer.wait()
            raise Killed  # nothing after the checkpoint of step 4 is saved

    with pytest.raises(Killed):
        train(buffer_config(), tmp_path / 'killed', dataset=TinyImages().dataset, hooks=(kill_at_6,))
    assert sorted(p.name for p in (tmp_path / 'killed' / 'checkpoints').iterdir()) == ['4']
    train(buffer_config(), tmp_path / 'killed', dataset=TinyImages().dataset)
    train(buffer_config(), tmp_path / 'straight', dataset=TinyImages().dataset)
    killed, straight = (saved_state(tmp_path / name)['aux'] for name in ('killed', 'straight'))
    assert killed['buffer'].shape == (32, 4, 4, 1)
    np.testing.assert_array_equal(killed['buffer'], straight['buffer'])
    # The buffer really changed in training (it is not the initial noise being compared).
    initial = replay_buffer.init_buffer(jax.random.fold_in(jax.random.PRNGKey(0), 1), 32, (4, 4, 1))
    assert float(np.abs(straight['buffer'] - np.asarray(initial)).max()) > 0.1
