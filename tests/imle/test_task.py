"""GLANNTask: GLO then IMLE steps lower their losses, latents stay on the sphere, each example's
latent is found by its index (augmented pixels or not) and is checkpointed, four devices train like one."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests.ebm.fakes import TinyImages, run_steps, saved_state
from zoo.imle.task import GLANNTask
from zoo.train import Config, ConfigError, OptimizerConfig, train

DATA = TinyImages(num=64)
GLO_STEPS = 12


def tiny_config(**task_kwargs) -> Config:
    kwargs = dict(
        latent_dim=4,
        noise_dim=4,
        glo_steps=GLO_STEPS,
        distance='laplacian',
        levels=2,
        latent_lr=0.05,
        pool_factor=4,
        chunk_size=16,
        eval_pool=32,
        num_samples=4,
    )
    return Config(
        task='glann',
        model=dict(generator=dict(hidden=32, depth=1), mapper=dict(hidden=16, depth=1)),
        task_kwargs={**kwargs, **task_kwargs},
        batch_size=16,
        steps=2 * GLO_STEPS,
        eval_batch_size=32,
        optimizer=OptimizerConfig(lr=1e-2, warmup_steps=0),
        log_every=2,
        eval_every=0,
        sample_every=0,
        checkpoint_every=4,
    )


def make_task(**task_kwargs):
    config = tiny_config(**task_kwargs)
    return GLANNTask(DATA.info, config, num_examples=len(DATA.images), **config.task_kwargs)


def batches(n, batch_size=16):
    stream = DATA.train_batches(batch_size, seed=0)
    return [next(stream) for _ in range(n)]


@pytest.fixture(scope='module')
def trained():
    task = make_task()
    state, metrics = run_steps(task, batches(2 * GLO_STEPS), num_devices=1)
    return task, state, metrics


def test_glo_then_imle_steps_lower_their_losses(trained):
    _, _, metrics = trained
    glo = [float(m['glo_loss']) for m in metrics[:GLO_STEPS]]
    imle = [float(m['imle_loss']) for m in metrics[GLO_STEPS:]]
    assert all(float(m['imle_loss']) == 0 for m in metrics[:GLO_STEPS]) and all(i > 0 for i in imle)
    assert np.mean(glo[-3:]) < 0.8 * np.mean(glo[:3]), glo
    assert np.mean(imle[-3:]) < np.mean(imle[:3]), imle


def test_latents_stay_on_the_sphere_and_only_seen_images_move(trained):
    task, state, _ = trained
    latents = np.asarray(state.aux['latents'])
    assert latents.shape == (64, 4)
    np.testing.assert_allclose(np.linalg.norm(latents, axis=1), 1.0, rtol=1e-5)
    initial = np.asarray(task.init(jax.random.PRNGKey(0), batches(1)[0]).aux['latents'])
    seen = np.unique(np.concatenate([b['index'] for b in batches(GLO_STEPS)]))
    moved = np.flatnonzero(np.abs(latents - initial).max(axis=1) > 1e-5)  # jit vs eager init: ulps
    np.testing.assert_array_equal(moved, seen)


def test_the_loop_on_four_devices_trains_like_one_device_and_checkpoints_the_latents(tmp_path):
    """The loop (4 CPU devices) against the bare step on 1 device: same parameters and
    latents, and the latents come back from the checkpoint."""
    config = tiny_config(glo_steps=2)
    config.steps = 4
    train(config, tmp_path, task=make_task(glo_steps=2), dataset=DATA.dataset)
    saved = saved_state(tmp_path)
    one, _ = run_steps(make_task(glo_steps=2), batches(4), num_devices=1)
    close = lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    close(saved['aux']['latents'], one.aux['latents'])
    jax.tree.map(close, saved['params'], one.params)


def test_eval_and_sheets(trained):
    task, state, _ = trained
    values = task.eval_step(state, DATA.batch(np.arange(8)), jax.random.PRNGKey(0))
    assert values['nn_distance'].shape == (8,) and bool(jnp.all(values['nn_distance'] >= 0))
    sheets = task.visualize(state, DATA.batch(np.arange(8)), jax.random.PRNGKey(0))
    assert sorted(sheets) == ['glo_fits', 'samples']
    assert all(s.dtype == np.uint8 and s.shape == (11, 11, 1) for s in sheets.values())
    samples = task.sample(state, jax.random.PRNGKey(1), 5)
    assert samples.shape == (5, 4, 4, 1) and samples.dtype == np.uint8 and samples.max() < 17


def test_bad_settings_are_config_errors():
    with pytest.raises(ConfigError, match='unknown distance'):
        make_task(distance='perceptual')
    config = tiny_config()
    config.model = dict(hidden=3)
    with pytest.raises(ConfigError, match='model=dict\\(generator=..., mapper=...\\)'):
        GLANNTask(DATA.info, config, num_examples=64)
    config.model = dict(generator=dict(hidden=(32, 64)))
    with pytest.raises(ConfigError, match='model.generator.hidden'):
        GLANNTask(DATA.info, config, num_examples=64)


def test_the_latent_follows_the_index_not_the_pixels():
    """A GLO step on flipped images moves the latents of the batch's indices, exactly as on the
    originals: the row comes from ``index``, so augmentation cannot lose it."""
    task = make_task()
    batch = DATA.batch(np.arange(16))
    state = task.init(jax.random.PRNGKey(0), batch)
    flipped = {**batch, 'image': batch['image'][:, :, ::-1]}
    after, _ = jax.jit(task.train_step)(state, flipped, jax.random.PRNGKey(1))
    moved = np.flatnonzero(np.abs(np.asarray(after.aux['latents'] - state.aux['latents'])).max(axis=1) > 0)
    np.testing.assert_array_equal(moved, np.arange(16))
