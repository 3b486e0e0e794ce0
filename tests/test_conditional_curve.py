"""experiments.conditional_curve and experiments.cvae_label_probe: conditional accuracy per kept
checkpoint, and a CVAE's temperature and label-swap probe, by the rule of experiments.conditional."""

import pytest

from experiments.conditional import classifier_and_ceiling
from experiments.conditional_curve import curve, kept_steps
from experiments.cvae_label_probe import probe
from zoo.train import Config, train


@pytest.mark.slow
def test_every_kept_checkpoint_is_scored(tmp_path):
    config = Config(
        task='cgan',
        model={'generator': {'channels': 4}, 'critic': {'channels': 4}},
        task_kwargs={'latent_dim': 8},
        steps=4,
        batch_size=16,
        checkpoint_every=1,
        keep_checkpoints=2,
        eval_every=0,
        sample_every=0,
        log_every=1,
    )
    train(config, tmp_path)
    assert kept_steps(str(tmp_path)) == [3, 4]
    rows = curve(str(tmp_path), per_class=3)
    ceiling = classifier_and_ceiling('digits')[1]['mean']
    assert [r['step'] for r in rows] == [3, 4]
    for r in rows:
        assert 0.0 <= r['worst_class_accuracy'] <= r['conditional_accuracy'] <= 1.0
        assert r['ceiling_real_test'] == ceiling


@pytest.mark.slow
def test_cvae_label_probe_reports_shares(tmp_path):
    config = Config(
        task='cvae',
        model={'architecture': 'mlp', 'hidden': 8, 'latents': 2},
        task_kwargs={'iwae_samples': 2, 'iwae_chunk': 2},
        steps=2,
        batch_size=16,
        eval_every=0,
        sample_every=0,
        log_every=1,
    )
    train(config, tmp_path)
    result = probe(str(tmp_path), swaps=20, per_class=3)
    assert result['step'] == 2
    for key in ('accuracy_t0.0', 'accuracy_t0.7', 'swap_follows_label', 'swap_keeps_class', 'reconstruction_accuracy'):
        assert 0.0 <= result[key] <= 1.0
    # a swapped image is named either as its new class, its own class, or a third one
    assert result['swap_follows_label'] + result['swap_keeps_class'] <= 1.0
