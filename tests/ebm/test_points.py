"""The 2-D EBM: a short fit puts low energy on the data, and the experiment writes its picture."""

import os

import jax
import jax.numpy as jnp
import numpy as np

from zoo.ebm.points import fit_points, langevin_samples


def two_blobs(key, n):
    """Equal mixture of N((+-2, 0), 0.3^2 I)."""
    k_side, k_noise = jax.random.split(key)
    side = jnp.where(jax.random.bernoulli(k_side, 0.5, (n, 1)), 2.0, -2.0)
    return jnp.concatenate([side, jnp.zeros((n, 1))], 1) + 0.3 * jax.random.normal(k_noise, (n, 2))


def test_a_short_fit_lowers_the_loss_and_the_energy_of_the_data():
    model, losses = fit_points(two_blobs, jax.random.key(0), steps=150, batch_size=64, hidden=(32, 32),
                               langevin_steps=5, buffer_size=256, chunk=150, lr=3e-3)
    assert losses.shape == (150,) and float(jnp.mean(losses[-20:])) < float(jnp.mean(losses[:5]))
    u = model.energy(jnp.array([[2.0, 0.0], [-2.0, 0.0], [0.0, 3.0], [0.0, -3.0]]))
    assert float(jnp.max(u[:2])) < float(jnp.min(u[2:]))
    samples = langevin_samples(model, jax.random.key(1), 50, 5)
    assert samples.shape == (50, 2) and float(jnp.abs(samples).max()) <= model.box


def test_ebm_2d_writes_the_picture_and_summary(tmp_path):
    from experiments import ebm_2d
    summary = ebm_2d.main(['--steps', '2', '--out', str(tmp_path), '--densities', 'eight_gaussians',
                           '--num-samples', '64', '--sample-steps', '2'])
    assert os.path.exists(tmp_path / 'ebm_2d.png') and os.path.exists(tmp_path / 'summary.json')
    assert summary[0]['density'] == 'eight_gaussians' and 0 <= summary[0]['coverage'] <= 1
    assert np.isfinite(summary[0]['mmd2'])
