"""experiments.evaluate_zoo picks each model's config for the dataset and names the runs it cannot score."""

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
    """A model that rejects the dataset is reported with the train command's one error line, not trained."""
    monkeypatch.setattr(evaluate_zoo, 'train_command', lambda *a: ['sh', '-c', 'echo "error: bad shape" >&2; exit 2'])
    trained, failed = evaluate_zoo.train_all([('nice', 'nice', None)], str(tmp_path), None, None, log=lambda *a: None)
    assert trained == [] and failed == {'nice': 'error: bad shape'}


def test_an_unknown_run_is_one_line(tmp_path):
    with pytest.raises(SystemExit, match="unknown run 'flow'"):
        evaluate_zoo.main(['--workdirs', str(tmp_path), '--models', 'flow'])
