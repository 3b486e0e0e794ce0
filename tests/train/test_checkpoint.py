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
