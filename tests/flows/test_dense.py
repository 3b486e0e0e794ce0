"""DenseFlow: exact round trip and log-det, a density that integrates to one, and training."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests.flows.checks import check_layer, init_perturbed
from zoo.flows.dense import DenseFlow

KEY = jax.random.key(0)


class AsLayer(nn.Module):
    """A DenseFlow seen as a layer x -> (z, log_det) on arrays, for the shared layer checks."""

    flow: DenseFlow

    def __call__(self, x, inverse=False):
        if inverse:
            return self.flow([x], inverse=True)
        [z], log_det = self.flow(x)
        return z, log_det


@pytest.mark.parametrize(
    'kwargs',
    [
        dict(dim=2),
        dict(dim=5, split='interleave', kind='additive'),
        dict(dim=4, scale_fn='sigmoid', actnorm_init='zero'),
    ],
)
def test_round_trip_and_exact_log_det(kwargs):
    model = DenseFlow(num_layers=3, hidden=8, depth=1, **kwargs)
    x = jax.random.normal(jax.random.key(1), (4, kwargs['dim']))
    check_layer(AsLayer(model), x, KEY)


def test_density_integrates_to_one_and_samples():
    model = DenseFlow(num_layers=2, hidden=8, depth=1)
    x = 0.5 * jax.random.normal(jax.random.key(1), (16, 2))
    variables = init_perturbed(model, x, KEY, scale=0.1)
    edges = jnp.linspace(-10, 10, 401)
    centres = (edges[1:] + edges[:-1]) / 2
    xs, ys = jnp.meshgrid(centres, centres)
    points = jnp.stack([xs.ravel(), ys.ravel()], -1)
    p = jnp.exp(jax.jit(lambda v, p: model.apply(v, p, method=model.log_prob))(variables, points))
    np.testing.assert_allclose(float(jnp.sum(p) * (edges[1] - edges[0]) ** 2), 1.0, atol=1e-2)
    sample = jax.jit(lambda v, n, t: model.apply(v, KEY, n, t, method=model.sample), static_argnums=1)
    s = sample(variables, 7, 0.5)
    assert s.shape == (7, 2) and s.dtype == jnp.float32
    mode = jax.jit(lambda v: model.apply(v, [jnp.zeros((1, 2))], method=model.decode))(variables)
    np.testing.assert_allclose(sample(variables, 3, 0.0), jnp.broadcast_to(mode, (3, 2)), atol=1e-5)


def test_rejects_bad_shapes():
    model = DenseFlow(dim=3, num_layers=1, hidden=4)
    with pytest.raises(ValueError, match=r'expected vectors of shape \(batch, 3\)'):
        model.init(KEY, jnp.zeros((2, 2)))
    with pytest.raises(ValueError, match='dim >= 2'):
        DenseFlow(dim=1).init(KEY, jnp.zeros((2, 1)))
