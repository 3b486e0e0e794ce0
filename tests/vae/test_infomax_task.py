"""InfoMaxTask: training raises the MI bounds; evaluation gives features scored by retrieval and a probe."""

import jax
import numpy as np
import pytest

from tests.vae import digits
from zoo.train import Config
from zoo.train.config import OptimizerConfig
from zoo.train.step import train_step
from zoo.vae.infomax_task import InfoMaxTask

MODEL = {'latents': 8, 'channels': (8, 16), 'hidden': 64, 'critic_hidden': 64}


@pytest.fixture(scope='module')
def trained():
    config = Config(
        task='infomax',
        model=MODEL,
        batch_size=64,
        steps=60,
        optimizer=OptimizerConfig(lr=3e-3, warmup_steps=0),
    )
    task = InfoMaxTask(digits.INFO, config)
    state = task.init(jax.random.PRNGKey(0), digits.batch(64))
    step = jax.jit(lambda s, b: train_step(task, s, b))
    history = []
    for i in range(60):
        state, metrics = step(state, digits.batch(64, 64 * (i % 10)))
        history.append({k: float(v) for k, v in metrics.items()})
    return task, state, history


def test_training_raises_the_mutual_information_bounds(trained):
    _, _, history = trained
    mean = lambda key, part: np.mean([h[key] for h in part])
    # Both bounds start at their floor -log 4 (critics output ~0) and rise once the critics learn.
    assert abs(mean('global_mi', history[:3]) + np.log(4)) < 0.02
    assert mean('global_mi', history[-5:]) > mean('global_mi', history[:5]) + 0.2
    assert mean('local_mi', history[-5:]) > mean('local_mi', history[:5]) + 0.05
    assert mean('loss', history[-5:]) < mean('loss', history[:5]) - 0.2


def test_summary_has_retrieval_and_probe(trained):
    task, state, _ = trained
    values = jax.jit(task.eval_step)(state, digits.eval_batch(300, 1000), jax.random.PRNGKey(0))
    assert values['feature'].shape == (300, 8)
    summary = task.summarize({k: np.asarray(v) for k, v in values.items()})
    for name in ('retrieval_cosine', 'retrieval_l2', 'probe_accuracy'):
        assert 0.2 < summary[name] <= 1.0, (name, summary[name])  # chance is 0.1
    unlabelled = task.summarize({k: np.asarray(v) for k, v in values.items() if k != 'label'})
    assert 'probe_accuracy' not in unlabelled and 'kl' in unlabelled


def test_retrieval_sheet(trained):
    task, state, _ = trained
    sheet = task.visualize(state, digits.batch(64), jax.random.PRNGKey(0))['retrieval']
    assert sheet.shape == (8 * 9 + 1, 8 * 9 + 1, 1) and sheet.dtype == np.uint8


def test_representation_picks_the_evaluated_layer(trained):
    _, state, _ = trained
    widths = {}
    for name in ('code', 'global', 'local'):
        other = InfoMaxTask(digits.INFO, Config(task='infomax', model=MODEL), representation=name)
        widths[name] = other.eval_step(state, digits.eval_batch(5, 1000), jax.random.PRNGKey(0))['feature'].shape
    assert widths == {'code': (5, 8), 'global': (5, 64), 'local': (5, 2 * 2 * 16)}
    with pytest.raises(ValueError, match='representation'):
        InfoMaxTask(digits.INFO, Config(task='infomax'), representation='pixels')


@pytest.mark.parametrize('estimator', ['js', 'nce'])
def test_dot_critic_scores_all_pairs_and_its_bounds_rise(estimator):
    config = Config(
        task='infomax',
        model={**MODEL, 'critic': 'dot'},
        batch_size=32,
        steps=40,
        optimizer=OptimizerConfig(lr=3e-3, warmup_steps=0),
    )
    task = InfoMaxTask(digits.INFO, config, estimator=estimator)
    state = task.init(jax.random.PRNGKey(0), digits.batch(32))
    step = jax.jit(lambda s, b: train_step(task, s, b))
    history = []
    for i in range(40):
        state, metrics = step(state, digits.batch(32, 32 * (i % 20)))
        history.append(float(metrics['global_mi']))
    # JS starts at its floor -log 4, InfoNCE at 0 (equal scores); InfoNCE never exceeds log N.
    assert abs(history[0] - {'js': -np.log(4), 'nce': 0.0}[estimator]) < 0.05
    assert np.mean(history[-5:]) > history[0] + 0.2
    assert max(history) <= np.log(32) + 1e-5


def test_infonce_needs_the_dot_critic():
    with pytest.raises(ValueError, match='estimator'):
        InfoMaxTask(digits.INFO, Config(task='infomax', model=MODEL), estimator='nce')


@pytest.mark.parametrize('shift', [0.5, 100.0])
def test_views_pair_the_code_of_one_warp_with_the_features_of_another(shift):
    """Views that share the image let the bounds rise; views shifted off the image (all zeros,
    but for the few of shift up to 100 pixels that still overlap it) share nothing: every row of
    scores is then the same, T(a_i, z_j) = c_j, and the JS bound, mean_j -softplus(-c_j) -
    softplus(c_j), cannot exceed -log 4.  Were the code scored against its own image's
    features, it would rise there too."""
    config = Config(
        task='infomax',
        model={**MODEL, 'critic': 'dot'},
        batch_size=32,
        optimizer=OptimizerConfig(lr=3e-3, warmup_steps=0),
    )
    task = InfoMaxTask(digits.INFO, config, rotation=10.0, scale=0.1, shift=shift)
    state = task.init(jax.random.PRNGKey(0), digits.batch(32))
    step = jax.jit(lambda s, b, k: task.train_step(s, b, k))
    history = []
    for i in range(30):
        state, metrics = step(state, digits.batch(32, 32 * (i % 20)), jax.random.PRNGKey(i))
        history.append((float(metrics['global_mi']), float(metrics['local_mi'])))
    history = np.array(history)
    if shift > 10:
        assert np.mean(history[-5:]) < -np.log(4) + 0.01
    else:
        assert np.mean(history[-5:, 0]) > history[0, 0] + 0.2
    with pytest.raises(ValueError, match='rotation, scale and shift'):
        InfoMaxTask(digits.INFO, config, shift=-1.0)
