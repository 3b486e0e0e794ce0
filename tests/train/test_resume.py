"""Kill and resume: a run SIGKILLed after a checkpoint, or SIGTERMed between checkpoints,
continues to exactly the same state."""

import os
import signal
import subprocess
import sys

import pytest

from tests.train.tiny import assert_trees_equal, state_of, tiny_config
from zoo.train import read_metrics, train

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Trains like the test below, and kills itself with SIGKILL at step 6, once the
# checkpoint of step 4 is on disk (nothing is flushed or closed on SIGKILL).
KILLED_RUN = """
import os, signal, sys
import jax
jax.config.update('jax_num_cpu_devices', 4)
from tests.train.tiny import tiny_config
from zoo.train import train

def kill_at_6(step, state, checkpointer):
    if step == 6:
        checkpointer.wait()
        os.kill(os.getpid(), signal.SIGKILL)

train(tiny_config(steps=10, checkpoint_every=4), sys.argv[1], hooks=(kill_at_6,))
"""


def test_sigkilled_run_resumes_bit_identically(tmp_path):
    killed = subprocess.run(
        [sys.executable, '-c', KILLED_RUN, str(tmp_path / 'killed')],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert sorted(os.listdir(tmp_path / 'killed' / 'checkpoints')) == ['4']

    resumed = train(tiny_config(steps=10, checkpoint_every=4), tmp_path / 'killed')
    assert resumed['step'] == 10
    train(tiny_config(steps=10, checkpoint_every=4), tmp_path / 'straight')
    killed_state, straight_state = state_of(tmp_path / 'killed'), state_of(tmp_path / 'straight')
    assert_trees_equal(killed_state.params, straight_state.params)
    assert_trees_equal(killed_state.opt_state, straight_state.opt_state)
    # metrics.jsonl holds each step once: the killed run's records after step 4 were dropped.
    steps = [r['step'] for r in read_metrics(tmp_path / 'killed' / 'metrics.jsonl') if 'loss' in r]
    assert steps == [2, 4, 6, 8, 10]


def test_sigtermed_run_saves_its_last_good_state_and_resumes_bit_identically(tmp_path):
    """A scheduler's SIGTERM at step 6, between the checkpoints of 4 and 8: the loop saves
    step 6 (Ctrl-C's path), so no step is lost, and the handler is gone afterwards."""

    def terminate_at_6(step, state, checkpointer):
        if step == 6:
            # Without the loop's handler SIGTERM would end pytest itself: fail here instead.
            assert signal.getsignal(signal.SIGTERM) != signal.SIG_DFL, 'the loop leaves SIGTERM to kill the process'
            os.kill(os.getpid(), signal.SIGTERM)

    config = tiny_config(steps=10, checkpoint_every=4)
    with pytest.raises(KeyboardInterrupt):
        train(config, tmp_path / 'terminated', hooks=(terminate_at_6,))
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    assert sorted(os.listdir(tmp_path / 'terminated' / 'checkpoints')) == ['4', '6']

    resumed = train(config, tmp_path / 'terminated')
    assert resumed['first_step'] == 6 and resumed['step'] == 10
    train(config, tmp_path / 'straight')
    terminated_state, straight_state = state_of(tmp_path / 'terminated'), state_of(tmp_path / 'straight')
    assert_trees_equal(terminated_state.params, straight_state.params)
    assert_trees_equal(terminated_state.opt_state, straight_state.opt_state)
