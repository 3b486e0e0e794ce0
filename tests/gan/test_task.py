"""GANTask: every game learns a shifted 2-D Gaussian, runs the same on 4 devices as on 1,
and keeps its spectral power-iteration vectors across checkpoint and resume."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests.train.tiny import assert_trees_close, assert_trees_equal
from zoo import data
from zoo.gan.constraints import Clip
from zoo.gan.task import GANTask
from zoo.tasks import build_task
from zoo.train import (
    Config,
    ConfigError,
    OptimizerConfig,
    load_trained,
    make_init,
    make_mesh,
    make_train_step,
    replicate,
    shard_batch,
    to_host,
    train,
)
from zoo.train.step import train_step

POINTS = data.DatasetInfo('points', point_dim=2)
MU = jnp.array([2.0, -1.0])
GAMES = {
    'fgan_js': dict(game='fgan', divergence='js'),
    'fgan_kl': dict(game='fgan', divergence='kl'),
    'wgan_gp': dict(game='wgan', lipschitz='gradient_penalty', critic_steps=5),  # n_critic of Gulrajani et al. 2017
    'wgan_clip': dict(game='wgan', lipschitz='clip', clip_limit=0.5, critic_steps=2),
    'hinge_sn': dict(game='hinge', lipschitz='spectral'),
    'one_loss_sn': dict(game='one_loss', lipschitz='spectral'),
    'ogan': dict(game='ogan', latent_dim=4),
}


def points_task(**kwargs):
    config = Config(
        model=dict(generator=dict(hidden=32, depth=2), critic=dict(hidden=32, depth=2)),
        optimizer=OptimizerConfig(lr=2e-3, b1=0.5, warmup_steps=0),
    )
    return GANTask(POINTS, config, **{'net': 'mlp', 'latent_dim': 2, **kwargs})


@pytest.mark.parametrize('game', sorted(GAMES))
def test_each_game_moves_the_generator_to_the_data(game):
    """Data N((2, -1), 0.5^2 I): over 400 steps the generated mean comes to a quarter of its
    first distance from the data's; metrics, evaluation, samples and the picture have the
    protocol's shapes.  A GAN's iterates circle the equilibrium instead of settling on it (the
    last iterate of one_loss_sn or wgan_clip lands anywhere from 0.1 to 1.6 away, by seed and
    by CPU), so the test reads the generated mean averaged over the last 200 steps, which
    converges where the last iterate cycles."""
    task = points_task(**GAMES[game])
    points = lambda key: MU + 0.5 * jax.random.normal(key, (128, 2))
    batch = {'point': points(jax.random.key(1))}
    state = task.init(jax.random.key(0), batch)

    @jax.jit
    def run(state, keys):
        return jax.lax.scan(lambda state, key: train_step(task, state, {'point': points(key)}), state, keys)

    mean = lambda state: task.sample(state, jax.random.key(3), 2000).mean(0)
    before = float(jnp.linalg.norm(mean(state) - MU))
    trained, means, metrics = state, [], []
    for keys in jax.random.split(jax.random.key(2), 400).reshape(20, 20):
        trained, chunk = run(trained, keys)
        means.append(mean(trained))
        metrics.append(chunk)
    assert float(jnp.linalg.norm(jnp.mean(jnp.stack(means[10:]), 0) - MU)) < 0.25 * before
    metrics = jax.tree.map(lambda *chunks: jnp.concatenate(chunks), *metrics)
    assert int(trained.step) == 400 and metrics and all(np.isfinite(v).all() for v in metrics.values())
    for name in ('generator', 'critic'):
        assert any(
            not np.array_equal(a, b)
            for a, b in zip(jax.tree.leaves(state.params[name]), jax.tree.leaves(trained.params[name]))
        )
    if isinstance(task.constraint, Clip):  # clipping holds after every update
        assert max(float(jnp.max(jnp.abs(w))) for w in jax.tree.leaves(trained.params['critic'])) <= 0.5
    values = jax.jit(task.eval_step)(trained, batch, jax.random.key(4))
    assert task.headline in values and all(v.shape == (128,) for v in values.values())
    samples = task.sample(trained, jax.random.key(5), 5)
    assert samples.shape == (5, 2) and samples.dtype == np.float32
    sheet = task.visualize(trained, jax.tree.map(np.asarray, batch), jax.random.key(6))['samples']
    assert sheet.dtype == np.uint8 and sheet.ndim == 3 and sheet.shape[-1] == 3


def tiny_image_config(task, net='mlp', **changes):
    """A tiny run on digits; MLP nets compile fastest, 'dcgan' covers the (spectral) convolutions."""
    model = (
        dict(generator=dict(channels=4), critic=dict(channels=4))
        if net == 'dcgan'
        else dict(generator=dict(hidden=16, depth=1), critic=dict(hidden=16, depth=1))
    )
    base = dict(
        task=task,
        model=model,
        dataset='digits',
        task_kwargs=dict(latent_dim=8, num_samples=4, net=net),
        batch_size=16,
        eval_batch_size=100,
        # Adam's eps: a parameter whose gradient is 0 in exact arithmetic (WGAN's last
        # critic bias: E[1] - E[1]) gets rounding noise, which Adam with a tiny eps would
        # turn into +-lr steps that differ between device counts.
        optimizer=OptimizerConfig(lr=1e-3, eps=1e-4, warmup_steps=0),
        optimizers={'generator': {'ema_decay': 0.9}},
    )
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


@pytest.mark.parametrize(
    'name, net', [('fgan', 'mlp'), ('wgan', 'mlp'), ('hinge_gan', 'dcgan'), ('gan_onestep', 'mlp'), ('ogan', 'mlp')]
)
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
    config = lambda steps: tiny_image_config(
        'hinge_gan', steps=steps, checkpoint_every=2, log_every=2, eval_every=0, sample_every=0, validation_fraction=0.0
    )
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
    summary = task.summarize(
        jax.tree.map(np.asarray, task.eval_step(resumed, {'image': data.digits_images('test')[:8]}, jax.random.key(0)))
    )
    assert np.isfinite(summary['critic_gap'])


def test_ogan_reconstructs_in_the_data_shape():
    task = build_task(tiny_image_config('ogan', 'dcgan'), data.open_dataset('digits').info)
    pixels = data.digits_images('train')[:8]
    state = task.init(jax.random.key(0), {'image': pixels})
    values = task.eval_step(state, {'image': pixels}, jax.random.key(1))
    assert {k: v.shape for k, v in values.items()} == {
        k: (8,) for k in ('critic_gap', 'correlation', 'reconstruction_mse')
    }
    recon = task.reconstruct_model_space(state, task.to_model_space(pixels))
    assert recon.shape == (8, 8, 8, 1) and task.to_data(recon).dtype == jnp.uint8


def test_joint_loss_is_the_one_loss_gan_and_its_extra_term_trains_only_the_generator():
    """Su's single loss, written with the article's D = -(our D):
    L = E[max(0, 1 + D(x))] + E[max(0, 1 - D(G_ng))] + lambda E[D(G(z)) - D(G_ng)]."""
    task = points_task(game='one_loss', lipschitz='spectral', one_loss_weight=0.7)
    x = MU + 0.5 * jax.random.normal(jax.random.key(1), (32, 2))
    state = task.init(jax.random.key(0), {'point': x})
    spectral, rng = state.aux['critic'], jax.random.key(2)

    def by_hand(params, weight):
        z = task.latents(jax.random.split(rng)[0], 32)
        fake = task.generate(params['generator'], z)
        d = lambda y: -task.criticize(params['critic'], spectral, y)[0]
        d_ng = d(jax.lax.stop_gradient(fake))
        return jnp.mean(jax.nn.relu(1 + d(x))) + jnp.mean(jax.nn.relu(1 - d_ng)) + weight * jnp.mean(d(fake) - d_ng)

    loss = lambda params: task.joint_loss(params, spectral, x, rng)[0]
    np.testing.assert_allclose(loss(state.params), by_hand(state.params, 0.7), rtol=1e-6)
    np.testing.assert_allclose(loss(state.params), by_hand(state.params, 0.0), rtol=1e-6)  # the extra term is 0
    grads, expected, hinge_only = (
        jax.jit(jax.grad(f))(state.params) for f in (loss, lambda p: by_hand(p, 0.7), lambda p: by_hand(p, 0.0))
    )
    # Each gradient entry sums 64 per-example terms of size <= |grad| / 32 in float32 (a hinge
    # bias's is -1 + 1 = 0 exactly by hand, not after the task's batched sums).
    atol = 64 * 1e-7 * max(float(jnp.max(jnp.abs(g))) for g in jax.tree.leaves(expected))
    for a, b in zip(jax.tree.leaves(grads), jax.tree.leaves(expected)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=atol)
    # The critic's gradient is the hinge loss's alone; the hinge loss gives the generator none.
    for a, b in zip(jax.tree.leaves(grads['critic']), jax.tree.leaves(hinge_only['critic'])):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=atol)
    assert all(float(jnp.max(jnp.abs(g))) == 0.0 for g in jax.tree.leaves(hinge_only['generator']))
    assert max(float(jnp.max(jnp.abs(g))) for g in jax.tree.leaves(grads['generator'])) > 0


def test_image_samples_and_sheets():
    task = build_task(tiny_image_config('ogan', 'mlp'), data.open_dataset('digits').info)
    batch = {'image': data.digits_images('train')[:8]}
    state = task.init(jax.random.key(0), batch)
    samples = task.sample(state, jax.random.key(1), 6)
    assert samples.shape == (6, 8, 8, 1) and samples.dtype == np.uint8 and int(samples.max()) < 17
    sheets = task.visualize(state, batch, jax.random.key(2))
    # 4 samples: a 2 x 2 grid of 8x8 cells, 1 pixel apart; reconstructions: 2 (image, reconstruction) pairs, one a row.
    assert sheets['samples'].shape == (19, 19, 1) and sheets['reconstructions'].shape == (19, 19, 1)


@pytest.mark.parametrize(
    'kwargs, message',
    [
        (dict(game='lsgan'), r"game='lsgan': choose one of"),
        (dict(lipschitz='sn'), r"lipschitz='sn': choose one of"),
        (dict(divergence='wasserstein'), 'divergence'),
        (dict(game='ogan', lipschitz='gradient_penalty'), 'does not work with lipschitz=gradient_penalty'),
        (dict(game='hinge', divergence='kl'), r"\['divergence'\] do nothing"),
        (dict(critic_steps=0), 'critic_steps must be a positive integer'),
        (dict(latent_dim=0), 'latent_dim must be a positive integer'),
        (dict(num_samples=2.5), 'num_samples must be a positive integer'),
        (dict(net='resnet'), r"net='resnet': choose one of"),
    ],
)
def test_bad_settings_are_config_errors(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        points_task(**kwargs)


def test_dcgan_on_points_is_refused():
    with pytest.raises(ConfigError, match='net=dcgan needs'):
        GANTask(POINTS, Config(), net='dcgan')


@pytest.mark.parametrize(
    'model, message',
    [
        (dict(generator=dict(hidden=-1)), 'model.generator.hidden'),
        (dict(critic=dict(widht=8)), r"model.critic: MLPCritic has no settings \['widht'\]"),
        (dict(hidden=8), 'give them as model.generator.<name> or model.critic.<name>'),
    ],
)
def test_bad_network_settings_name_the_field(model, message):
    with pytest.raises(ConfigError, match=message):
        GANTask(POINTS, Config(model=model), net='mlp')
