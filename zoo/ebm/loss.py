"""The EBM training loss of Du & Mordatch (2019, "Implicit Generation and Modeling with
Energy-Based Models", sec. 3.3).

For q(x) = exp(-U(x)) / Z the log-likelihood gradient is
E_data[grad_theta U] - E_q[grad_theta U] (descending it lowers the energy of data and
raises that of samples), so with negatives x- drawn from q by Langevin dynamics

    L = mean U(x+) - mean U(x-) + alpha (mean U(x+)^2 + mean U(x-)^2).

The second term keeps energies near zero; without it U drifts without bound, since
only differences of U matter to q.  It is a sum, as in the IGEBM reference code
(``l2_coeff * (energy_pos**2 + energy_neg**2)``); a minus sign between the squares, as
some write-ups print it, would reward large |U(x-)| and is not what the code trains.
"""

import jax
import jax.numpy as jnp


def ebm_loss(energy_real: jax.Array, energy_fake: jax.Array, alpha: float) -> tuple[jax.Array, dict]:
    """(L, metrics) for per-example energies of data (x+) and of samples (x-).

    L = mean U(x+) - mean U(x-) + alpha (mean U(x+)^2 + mean U(x-)^2); the samples must
    be constants (stop-gradiented chain ends), so grad_theta L is the contrastive gradient.
    """
    contrast = jnp.mean(energy_real) - jnp.mean(energy_fake)
    regulariser = jnp.mean(jnp.square(energy_real)) + jnp.mean(jnp.square(energy_fake))
    loss = contrast + alpha * regulariser
    return loss, {
        'contrast': contrast,
        'energy_real': jnp.mean(energy_real),
        'energy_fake': jnp.mean(energy_fake),
        'energy_sq': regulariser,
    }
