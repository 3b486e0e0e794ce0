"""experiments.evaluate scores any trained task through load_trained and task.sample alone."""

import json
import os

import numpy as np
import pytest

from experiments import evaluate
from zoo import data
from zoo.train import Config, OptimizerConfig, load_trained, train
from zoo.train.writer import read_metrics


def tiny(task: str, dataset: str, model: dict, **task_kwargs) -> Config:
    return Config(
        task=task,
        dataset=dataset,
        steps=2,
        batch_size=16,
        eval_batch_size=100,
        log_every=1,
        eval_every=0,
        sample_every=0,
        checkpoint_every=2,
        model=model,
        task_kwargs=task_kwargs,
        optimizer=OptimizerConfig(lr=1e-3, warmup_steps=0),
    )


def tiny_gan(dataset: str) -> Config:
    nets = {'generator': {'hidden': 8, 'depth': 1}, 'critic': {'hidden': 8, 'depth': 1}}
    return tiny('hinge_gan', dataset, nets, net='mlp', latent_dim=4, num_samples=4)


@pytest.fixture
def no_inception(tmp_path, monkeypatch):
    """No converted Inception weights anywhere: the command falls back to the offline classifier."""
    monkeypatch.delenv('ZOO_FID_WEIGHTS', raising=False)
    monkeypatch.setenv('ZOO_CACHE', str(tmp_path / 'cache'))


def test_image_runs_get_every_statistic_a_table_and_a_sheet(tmp_path, capsys, no_inception):
    gan, flow = str(tmp_path / 'gan'), str(tmp_path / 'nice')
    train(tiny_gan('digits'), gan)
    train(tiny('nice', 'digits', {'num_couplings': 2, 'hidden': 8, 'depth': 1}), flow)
    out = str(tmp_path / 'report')
    evaluate.main([gan, flow, '--num-samples', '60', '--out', out])
    printed = capsys.readouterr().out
    with open(os.path.join(gan, 'evaluation.json')) as f:
        result = json.load(f)
    assert (
        result['task'] == 'hinge_gan' and result['num_samples'] == 60 and result['reference'].startswith('test split')
    )
    assert result['feature_network'].startswith('offline classifier')
    assert {'fd', 'is', 'precision', 'recall', 'density', 'coverage', 'mmd2', 'class_coverage'} <= set(result)
    assert 'test_bpd' not in result  # a GAN has no likelihood
    # Two steps of training are far from the data; the data's own floor is far below.
    assert result['fd'] > result['data_floor']['fd']
    assert result['data_floor']['precision'] > result['precision']
    with open(os.path.join(flow, 'evaluation.json')) as f:
        test_bpd = json.load(f)['test_bpd']
    # The flow's likelihood is the run's own test record, and recomputing it gives the same number.
    assert test_bpd == evaluate.recorded_test_summary(flow, 2)['bpd']
    trained = load_trained(flow)
    dataset = data.open_dataset('digits')
    assert evaluate.likelihood(trained, dataset, 100)['test_bpd'] == pytest.approx(test_bpd, rel=1e-5)
    record = read_metrics(os.path.join(gan, 'metrics.jsonl'))[-1]
    assert record['step'] == 2 and record['eval/fd'] == pytest.approx(result['fd'])
    assert record['eval/data_floor/fd'] == pytest.approx(result['data_floor']['fd'])
    assert record['eval/num_samples'] == 60 and record['eval/reference'] == result['reference']
    assert record['eval/feature_network'] == result['feature_network']
    assert 'not FID' in printed and 'Reference: digits test split' in printed
    assert '| gan (hinge_gan) | 2 |' in printed and '| nice (nice) | 2 |' in printed
    assert os.path.exists(os.path.join(out, 'samples_digits.png'))
    assert os.path.exists(os.path.join(out, 'evaluation.md'))


def test_the_recorded_test_summary_is_the_one_at_the_checkpoint_step(tmp_path):
    lines = [
        {'step': 2, 'validation/bpd': 3.0, 'test/bpd': 2.5, 'test/nll': 100.0},
        {'step': 4, 'loss': 1.0},
        {'step': 4, 'eval/fd': 1.0},
    ]
    (tmp_path / 'metrics.jsonl').write_text(''.join(json.dumps(line) + '\n' for line in lines))
    assert evaluate.recorded_test_summary(str(tmp_path), 2) == {'bpd': 2.5, 'nll': 100.0}
    assert evaluate.recorded_test_summary(str(tmp_path), 4) == {}  # killed before its test: recompute
    assert evaluate.recorded_test_summary(str(tmp_path / 'nowhere'), 2) == {}
    assert evaluate.likelihood_numbers({'bpd': 2.5, 'accuracy': 0.9}) == {'test_bpd': 2.5}


def test_a_point_run_gets_mmd(tmp_path, no_inception):
    workdir = str(tmp_path / 'points')
    train(tiny_gan('toy2d:eight_gaussians'), workdir)
    result = evaluate.evaluate(workdir, 100)
    assert set(result['data_floor']) == {'mmd2'} and result['mmd2'] > result['data_floor']['mmd2']


def test_unknown_metric_is_one_line(tmp_path):
    with pytest.raises(SystemExit, match="unknown metric 'fid'"):
        evaluate.main([str(tmp_path), '--metrics', 'fid'])


def test_an_untrained_workdir_is_one_line(tmp_path):
    with pytest.raises(SystemExit, match=r'^error: .*empty: no checkpoints in .*train first'):
        evaluate.main([str(tmp_path / 'empty')])


def test_a_task_that_does_not_sample_is_one_line(tmp_path, no_inception):
    workdir = str(tmp_path / 'vib')
    train(tiny('vib', 'digits', {'hidden': (8,), 'latents': 2}), workdir)
    with pytest.raises(SystemExit, match=r'^error: .*vib: vib is not a generative model: its task has no sample\(\)'):
        evaluate.main([workdir])


def test_conditions_parse_as_python_literals_or_strings():
    assert evaluate.parse_conditions(['source=buffer', 'temperature=0.7']) == {'source': 'buffer', 'temperature': 0.7}
    with pytest.raises(SystemExit, match='NAME=VALUE'):
        evaluate.parse_conditions(['buffer'])


def test_table_states_the_protocol():
    result = {
        'task': 'glow',
        'dataset': 'digits',
        'step': 5,
        'reference': 'test split (360 examples)',
        'num_samples': 100,
        'feature_network': 'net',
        'fd': 1.5,
        'data_floor': {'fd': 0.25},
    }
    text = evaluate.table([('run', result)])
    assert text.splitlines()[0] == 'Reference: digits test split (360 examples); 100 samples per model; features: net.'
    assert '| data floor (train examples) | | 0.25 |' in text and '| run (glow) | 5 | 1.50 |' in text
    assert np.isfinite(result['fd'])
