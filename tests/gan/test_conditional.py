"""Projection critic and class-conditional generator: shapes, the projection term, spectral norm."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from zoo.gan.conditional import ConditionalBatchNorm, ConditionalDCGANGenerator, ProjectionCritic

KEY = jax.random.key(0)
X = jax.random.uniform(KEY, (4, 8, 8, 1), minval=-1, maxval=1)
Y = jax.nn.one_hot(jnp.array([0, 1, 2, 3]), 10)


def test_projection_critic_is_psi_plus_the_label_projection():
    critic = ProjectionCritic(channels=8, spectral=False)
    v = critic.init(KEY, X, Y)
    scores = critic.apply(v, X, Y)
    assert scores.shape == (4,)
    # f(x, y) - f(x, y') = <V (y - y'), phi(x)>: linear in the one-hot label.
    y_mix = 0.5 * (Y + Y[::-1])
    mid = critic.apply(v, X, y_mix)
    np.testing.assert_allclose(mid, 0.5 * (scores + critic.apply(v, X, Y[::-1])), rtol=1e-5, atol=1e-5)
    assert float(jnp.max(jnp.abs(critic.apply(v, X, Y[::-1]) - scores))) > 0


def test_flattened_features_see_where_a_stroke_is_and_summed_ones_do_not():
    # A 2x2 blob on a zero background, and the same blob moved by the conv's stride (2 pixels):
    # the 4x4 stride-2 trunk sees the same patches at other positions, so a sum over positions
    # gives the same phi (the summed critic cannot tell them apart) and the flattened one does not.
    blob = jnp.zeros((1, 8, 8, 1)).at[:, 2:4, 2:4].set(1.0)
    moved = jnp.roll(blob, (2, 2), axis=(1, 2))
    scores = {}
    for pool in ('sum', 'flatten'):
        critic = ProjectionCritic(channels=8, spectral=False, pool=pool)
        v = critic.init(KEY, blob, Y[:1])
        scores[pool] = [float(critic.apply(v, x, Y[:1])[0]) for x in (blob, moved)]
    a, b = scores['sum']
    assert abs(a - b) <= 1e-5 * max(1.0, abs(a))
    a, b = scores['flatten']
    assert abs(a - b) > 1e-3
    with pytest.raises(ValueError, match='unknown pool'):
        ProjectionCritic(channels=8, spectral=False, pool='mean').init(KEY, blob, Y[:1])


def test_spectral_projection_critic_normalises_every_layer_embedding_included():
    critic = ProjectionCritic(channels=8, spectral=True)
    v = critic.init(KEY, X, Y)
    assert len(jax.tree.leaves(v['spectral'])) == 3  # u of the one conv stage, psi and the embedding
    scores, updated = critic.apply(v, X, Y, update_stats=True, mutable=['spectral', 'sigmas'])
    assert scores.shape == (4,) and 'spectral' in updated


def test_conditional_generator_starts_label_blind_and_depends_on_labels_after_a_nudge():
    gen = ConditionalDCGANGenerator((8, 8, 1), channels=8)
    z = jax.random.normal(KEY, (4, 16))
    v = gen.init(KEY, z, Y)
    x = gen.apply(v, z, Y)
    assert x.shape == (4, 8, 8, 1) and float(jnp.max(jnp.abs(x))) <= 1.0
    np.testing.assert_allclose(gen.apply(v, z, Y[::-1]), x, atol=1e-6)  # zero-initialised class maps
    leaves, tree = jax.tree.flatten(v)
    keys = jax.random.split(KEY, len(leaves))  # random, so the class rows of G and B differ
    nudged = jax.tree.unflatten(tree, [p + 0.1 * jax.random.normal(k, p.shape) for p, k in zip(leaves, keys)])
    assert float(jnp.max(jnp.abs(gen.apply(nudged, z, Y[::-1]) - gen.apply(nudged, z, Y)))) > 1e-4


def test_conditional_batch_norm_per_class_scale_and_shift():
    bn = ConditionalBatchNorm()
    h = jax.random.normal(KEY, (4, 3, 3, 5))
    v = bn.init(KEY, h, Y)
    out = bn.apply(v, h, Y)
    np.testing.assert_allclose(jnp.mean(out, (0, 1, 2)), 0.0, atol=1e-5)
    v = jax.tree.map(lambda p: p + 1.0, v)  # gamma_y = 2, beta_y = 1 for every class
    np.testing.assert_allclose(bn.apply(v, h, Y), 2 * out + 1, rtol=1e-5, atol=1e-5)


def test_conditional_gan_task_steps_samples_labels_and_refuses_ogan():
    from tests.vae import digits
    from zoo.tasks import build_task
    from zoo.train import Config, ConfigError
    from zoo.train.step import train_step

    config = Config(task='cgan', model={'generator': {'channels': 8}, 'critic': {'channels': 8}})
    task = build_task(config, digits.INFO)
    batch = digits.batch(16)
    state = jax.jit(task.init)(KEY, batch)
    state, metrics = jax.jit(lambda s: train_step(task, s, batch))(state)
    assert all(np.isfinite(float(v)) for v in metrics.values())
    samples = task.sample(state, KEY, 4, labels=np.array([3, 3, 3, 3]))
    assert samples.shape == (4, 8, 8, 1) and samples.dtype == np.uint8
    values = task.eval_step(state, {**batch, 'mask': np.ones(16, bool)}, KEY)
    assert all(v.shape == (16,) for v in values.values())
    with pytest.raises(ConfigError, match='ogan'):
        build_task(Config(task='cgan', task_kwargs={'game': 'ogan'}), digits.INFO)
    summed = build_task(Config(task='cgan', model={'critic': {'channels': 8, 'pool': 'sum'}}), digits.INFO)
    assert summed.critic.pool == 'sum' and task.critic.pool == 'flatten'
