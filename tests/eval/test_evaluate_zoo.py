"""experiments.evaluate_zoo picks each model's config for the dataset and names the runs it cannot score."""

import json
import os

import pytest

from experiments import configs, evaluate_zoo


def test_an_npz_takes_the_mnist32_config_where_the_model_has_one():
    assert evaluate_zoo.config_name('glow', None, 'npz:/data/mnist32.npz') == 'mnist32'
    assert evaluate_zoo.config_name('glow', 'cond', 'npz:/data/mnist32.npz') == 'mnist32_cond'
    assert evaluate_zoo.config_name('ebm', None, 'npz:/data/mnist32.npz') == 'mnist32'
    assert evaluate_zoo.config_name('vae', None, 'npz:/data/mnist32.npz') == 'digits'
    assert evaluate_zoo.config_name('glow', None, None) == 'digits'
    assert evaluate_zoo.config_name('glow', 'cond', None) == 'digits_cond'


def test_every_run_names_a_model_and_config_that_exist():
    for _, model, variant in evaluate_zoo.RUNS:
        for dataset in (None, 'npz:x.npz'):
            assert evaluate_zoo.config_name(model, variant, dataset) in configs.names(model)


def test_a_failed_training_is_its_error_line(tmp_path, monkeypatch):
    """A model that rejects the dataset is reported with its one error line and left out; the others train."""
    resumed = []

    def run(model, argv):
        if model == 'nice':
            raise ValueError('bad shape')
        workdir = argv[argv.index('--workdir') + 1]
        resumed.append(os.path.isdir(os.path.join(workdir, 'checkpoints', '2')))
        with open(os.path.join(workdir, 'metrics.jsonl'), 'a') as f:  # zoo.train's closing record
            f.write(json.dumps({'step': 3, 'summary': {'wall_time': 1.0, 'step_time': 0.1}}) + '\n')
        return {'step': 3}

    monkeypatch.setattr(evaluate_zoo.runner, 'run', run)
    runs = [('nice', 'nice', None), ('glow', 'glow', None)]
    # A run killed mid-training: a periodic checkpoint, records, no closing summary.  Trained again (resumed).
    os.makedirs(tmp_path / 'glow' / 'checkpoints' / '2')
    (tmp_path / 'glow' / 'metrics.jsonl').write_text(json.dumps({'step': 2, 'loss': 1.0}) + '\n')
    assert not evaluate_zoo.finished(str(tmp_path / 'glow'))
    trained, failed = evaluate_zoo.train_all(runs, str(tmp_path), None, None, log=lambda *a: None)
    assert trained == [('glow', str(tmp_path / 'glow'))] and failed == {'nice': 'error: bad shape'}
    assert resumed == [True] and evaluate_zoo.finished(str(tmp_path / 'glow'))
    # A rerun resumes the queue: what reached its end is not trained again.
    monkeypatch.setattr(evaluate_zoo.runner, 'run', lambda *a: pytest.fail('trained twice'))
    assert evaluate_zoo.train_all(runs[1:], str(tmp_path), None, None, log=lambda *a: None)[0] == trained


def test_an_unknown_run_is_one_line(tmp_path):
    with pytest.raises(SystemExit, match="unknown run 'flow'"):
        evaluate_zoo.main(['--workdirs', str(tmp_path), '--models', 'flow'])


def test_the_queue_trains_in_the_order_given(tmp_path, monkeypatch):
    """``--models glow,ebm,nice`` trains Glow first (a budget run queues the slow models first)."""
    queued = []

    def train_all(runs, *args, **kwargs):
        queued.extend(name for name, _, _ in runs)
        return [], {}

    monkeypatch.setattr(evaluate_zoo, 'train_all', train_all)
    with pytest.raises(SystemExit, match='no run trained'):
        evaluate_zoo.main(['--workdirs', str(tmp_path), '--models', 'glow,ebm,nice'])
    assert queued == ['glow', 'ebm', 'nice']
