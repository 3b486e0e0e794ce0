"""GANTask: every game learns a shifted 2-D Gaussian, runs the same on 4 devices as on 1,
and keeps its spectral power-iteration vectors across checkpoint and resume."""

import types

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests.train.tiny import assert_trees_close, assert_trees_equal
from zoo import data
from zoo.gan.task import GANTask
from zoo.tasks import build_task
from zoo.train import (Config, ConfigError, OptimizerConfig, load_trained, make_init, make_mesh, make_train_step,
                       replicate, shard_batch, to_host, train)
from zoo.train.step import train_step

POINTS = types.SimpleNamespace(name='points', image_shape=(2,), num_levels=None)
MU = jnp.array([2.0, -1.0])
GAMES = {
    'fgan_js': dict(loss='fgan', divergence='js'),
    'fgan_kl': dict(loss='fgan', divergence='kl'),
    'wgan_gp': dict(loss='wgan', lipschitz='gradient_penalty'),
    'hinge_sn': dict(loss='hinge', lipschitz='spectral'),
    'one_loss_sn': dict(loss='one_loss', lipschitz='spectral'),
    'ogan': dict(loss='ogan', latent_dim=4),
}


def points_task(**kwargs):
    config = Config(model=dict(generator=dict(hidden=32, depth=2), critic=dict(hidden=32, depth=2)),
                    optimizer=OptimizerConfig(lr=2e-3, b1=0.5, warmup_steps=0))
    return GANTask(POINTS, config, **{'net': 'mlp', 'latent_dim': 2, **kwargs})


@pytest.mark.parametrize('game', sorted(GAMES))
def test_generator_moves_to_the_data(game):
    """Data N((2, -1), 0.5^2 I): 400 steps at least halve the distance of the generated mean to the data's."""
    task = points_task(**GAMES[game])
    points = lambda key: MU + 0.5 * jax.random.normal(key, (128, 2))
    state = task.init(jax.random.key(0), {'image': points(jax.random.key(1))})

    @jax.jit
    def run(state):
        body = lambda state, key: (train_step(task, state, {'image': points(key)})[0], None)
        return jax.lax.scan(body, state, jax.random.split(jax.random.key(2), 400))[0]

    distance = lambda state: float(jnp.linalg.norm(task.sample(state, jax.random.key(3), 2000).mean(0) - MU))
    before = distance(state)
    state = run(state)
    assert distance(state) < 0.5 * before
    assert set(state.params) == {'generator', 'critic'} and int(state.step) == 400


def tiny_image_config(task, net='mlp', **changes):
    """A tiny run on digits; MLP nets compile fastest, 'dcgan' covers the (spectral) convolutions."""
    model = (dict(generator=dict(channels=4), critic=dict(channels=4)) if net == 'dcgan'
             else dict(generator=dict(hidden=16, depth=1), critic=dict(hidden=16, depth=1)))
    base = dict(task=task, model=model, dataset='digits',
                task_kwargs=dict(latent_dim=8, num_samples=4, net=net), batch_size=16, eval_batch_size=100,
                # Adam's eps: a parameter whose gradient is 0 in exact arithmetic (WGAN's last
                # critic bias: E[1] - E[1]) gets rounding noise, which Adam with a tiny eps would
                # turn into +-lr steps that differ between device counts.
                optimizer=OptimizerConfig(lr=1e-3, eps=1e-4, warmup_steps=0),
                optimizers={'generator': {'ema_decay': 0.9}})
    base.update(changes)
    return Config(**base)


def train_a_few_steps(devices, task, pixels, steps=2):
    mesh = make_mesh(devices)
    batch = shard_batch(mesh, {'image': pixels})
    state = make_init(task, mesh)(replicate(mesh, jax.random.PRNGKey(0)), batch)
    initial = to_host(state.params)
    step = make_train_step(task, mesh)
    for _ in range(steps):
        state, metrics = step(state, batch)
    return initial, to_host(state.params), to_host(state.ema), to_host(state.aux), to_host(metrics)


@pytest.mark.parametrize('name, net', [('fgan', 'mlp'), ('wgan', 'mlp'), ('hinge_gan', 'dcgan'),
                                       ('gan_onestep', 'mlp'), ('ogan', 'mlp')])
def test_four_devices_match_one_device(name, net):
    task = build_task(tiny_image_config(name, net), data.open_dataset('digits').info)
    pixels = data.digits_images('train')[:16]
    many = train_a_few_steps(jax.devices(), task, pixels)
    one = train_a_few_steps(jax.devices()[:1], task, pixels)
    for a, b in zip(many, one):
        assert_trees_close(a, b, rtol=1e-4, atol=1e-5)
    assert all(np.isfinite(v) for v in many[-1].values())
    assert not all(np.array_equal(x, y) for x, y in zip(jax.tree.leaves(many[0]), jax.tree.leaves(many[1])))
    assert set(many[2]) == {'generator'}  # the generator's EMA, as GAN users expect


def test_spectral_vectors_survive_checkpoint_and_resume(tmp_path):
    config = lambda steps: tiny_image_config('hinge_gan', steps=steps, checkpoint_every=2, log_every=2,
                                             eval_every=0, sample_every=0, validation_fraction=0.0)
    train(config(2), tmp_path / 'resumed')
    train(config(4), tmp_path / 'resumed')
    train(config(4), tmp_path / 'straight')
    at_2 = load_trained(tmp_path / 'resumed', step=2).state
    trained = load_trained(tmp_path / 'resumed')
    task, resumed = trained.task, trained.state
    straight = load_trained(tmp_path / 'straight').state
    u = lambda state: state.aux['critic']['spectral']
    assert_trees_equal(u(resumed), u(straight))
    assert_trees_equal(resumed.params, straight.params)
    assert not all(np.array_equal(a, b) for a, b in zip(jax.tree.leaves(u(at_2)), jax.tree.leaves(u(resumed))))
    summary = task.summarize(jax.tree.map(np.asarray, task.eval_step(
        resumed, {'image': data.digits_images('test')[:8]}, jax.random.key(0))))
    assert np.isfinite(summary['critic_gap'])


def test_ogan_reconstructs_in_the_data_shape():
    task = build_task(tiny_image_config('ogan', 'dcgan'), data.open_dataset('digits').info)
    pixels = data.digits_images('train')[:8]
    state = task.init(jax.random.key(0), {'image': pixels})
    values = task.eval_step(state, {'image': pixels}, jax.random.key(1))
    assert {k: v.shape for k, v in values.items()} == {k: (8,) for k in ('critic_gap', 'correlation',
                                                                          'reconstruction_mse')}
    recon = task.reconstruct_model_space(state, task.to_model_space(pixels))
    assert recon.shape == (8, 8, 8, 1) and task.to_data(recon).dtype == jnp.uint8


@pytest.mark.parametrize('kwargs, message', [
    (dict(loss='lsgan'), r"loss='lsgan': choose one of"),
    (dict(lipschitz='sn'), r"lipschitz='sn': choose one of"),
    (dict(divergence='wasserstein'), 'unknown f-divergence'),
    (dict(loss='ogan', lipschitz='gradient_penalty'), 'GAN-QP penalty'),
    (dict(critic_steps=0), 'critic_steps must be >= 1'),
    (dict(net='resnet'), r"net='resnet': choose one of"),
])
def test_bad_settings_are_config_errors(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        points_task(**kwargs)


def test_dcgan_on_points_is_refused():
    with pytest.raises(ConfigError, match='net=dcgan needs'):
        GANTask(POINTS, Config(), net='dcgan')
