"""The EBM loss: its value, and a gradient that lowers data energy and raises sample energy."""

import jax
import jax.numpy as jnp
import numpy as np

from zoo.ebm.loss import ebm_loss


def test_ebm_loss_value_is_contrast_plus_alpha_times_squares():
    real, fake = jnp.array([0.5, -1.0, 2.0]), jnp.array([1.5, 3.0])
    loss, metrics = ebm_loss(real, fake, alpha=0.3)
    exact = np.mean([0.5, -1.0, 2.0]) - np.mean([1.5, 3.0]) + 0.3 * (np.mean([0.25, 1.0, 4.0]) + np.mean([2.25, 9.0]))
    np.testing.assert_allclose(loss, exact, rtol=1e-6)
    np.testing.assert_allclose(metrics['contrast'], np.mean([0.5, -1.0, 2.0]) - np.mean([1.5, 3.0]), rtol=1e-6)


def test_ebm_loss_gradient_pushes_data_down_and_samples_up():
    real, fake = jnp.zeros(4), jnp.zeros(2)  # at U = 0 the squares have no gradient
    g_real, g_fake = jax.grad(lambda r, f: ebm_loss(r, f, 1.0)[0], argnums=(0, 1))(real, fake)
    np.testing.assert_allclose(g_real, np.full(4, 0.25))  # descending lowers U(x+)
    np.testing.assert_allclose(g_fake, np.full(2, -0.5))  # ... and raises U(x-)
    # The regulariser pulls large energies of either sign back towards zero.
    g_big = jax.grad(lambda r: ebm_loss(r, jnp.zeros(1), 1.0)[0])(jnp.array([-10.0]))
    assert float(g_big[0]) < 0
