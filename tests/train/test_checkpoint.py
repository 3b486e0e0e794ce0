"""Checkpoints: a corrupt or mismatched checkpoint is a clear error, never a fresh start."""

import os
import shutil

import pytest

from tests.train.tiny import tiny_config
from zoo.train import CheckpointError, load_trained, train


@pytest.fixture(scope='module')
def finished(tmp_path_factory):
    workdir = tmp_path_factory.mktemp('run')
    train(tiny_config(steps=4, checkpoint_every=4), workdir)
    return workdir


def corrupt(workdir, step):
    """Overwrite every array data file of checkpoint ``step`` with garbage."""
    hit = 0
    for root, _, files in os.walk(os.path.join(workdir, 'checkpoints', str(step), 'state')):
        for name in files:
            if 'metadata' not in name.lower() and name != 'commit_success.txt':
                with open(os.path.join(root, name), 'wb') as f:
                    f.write(b'not a checkpoint')
                hit += 1
    assert hit


def test_corrupt_checkpoint_raises_a_clear_error(finished, tmp_path):
    workdir = tmp_path / 'copy'
    shutil.copytree(finished, workdir)
    corrupt(workdir, 4)
    with pytest.raises(CheckpointError, match=r'cannot restore the checkpoint at step 4 .* corrupt'):
        train(tiny_config(steps=8, checkpoint_every=4), workdir)
    with pytest.raises(CheckpointError, match='corrupt'):
        load_trained(workdir)


def test_checkpoint_of_another_model_raises(finished):
    with pytest.raises(CheckpointError, match=r"different run \(model: checkpoint \{'num_couplings': 2, 'hidden': 16"):
        train(tiny_config(steps=8, model=dict(num_couplings=2, hidden=32, depth=1)), finished)


def test_load_trained_without_checkpoints(tmp_path):
    with pytest.raises(FileNotFoundError, match='no checkpoints'):
        load_trained(tmp_path)


def test_truncated_manifest_is_one_clear_error_without_event_loop_noise(finished, tmp_path, capfd):
    workdir = tmp_path / 'copy'
    shutil.copytree(finished, workdir)
    truncated = 0
    for root, _, files in os.walk(os.path.join(workdir, 'checkpoints', '4')):
        for name in files:
            if name == 'manifest.ocdbt':
                path = os.path.join(root, name)
                with open(path, 'rb') as f:
                    content = f.read()
                with open(path, 'wb') as f:
                    f.write(content[: len(content) // 2])
                truncated += 1
    assert truncated
    with pytest.raises(CheckpointError) as error:
        train(tiny_config(steps=8, checkpoint_every=4), workdir)
    message = str(error.value)
    assert '\n' not in message and 'tensorstore_spec' not in message
    assert message.startswith('cannot restore the checkpoint at step 4') and message.endswith('fresh --workdir.')
    assert 'Event loop is closed' not in capfd.readouterr().err


def test_load_trained_gives_a_task_that_samples(finished, capfd):
    import jax

    trained = load_trained(finished)
    assert trained.step == 4 and trained.config.task == 'nice'
    pixels = trained.task.sample(trained.state, jax.random.key(0), 3)
    assert pixels.shape == (3, 8, 8, 1) and pixels.dtype == 'uint8'
    assert 'read-only' not in capfd.readouterr().err
