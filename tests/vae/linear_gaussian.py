"""A linear-Gaussian latent model whose marginal likelihood and posterior are exact.

    p(z) = N(0, I_d),  p(x|z) = N(W z + b, s^2 I_D)  =>  p(x) = N(b, W W^T + s^2 I)

W has orthogonal columns, so the exact posterior N(mu(x), Sigma) is diagonal:
Sigma = (I + W^T W / s^2)^-1,  mu(x) = Sigma W^T (x - b) / s^2.
"""

import jax.numpy as jnp
import numpy as np
from scipy import stats

from zoo.distributions import gaussian_log_prob, sum_except_batch


class LinearGaussian:
    def __init__(self, latent=2, observed=3, noise=0.5, seed=0):
        rng = np.random.default_rng(seed)
        q, _ = np.linalg.qr(rng.normal(size=(observed, latent)))
        self.W = q * np.array([1.5, 0.8, 1.1, 0.6][:latent])
        self.b = rng.normal(size=observed)
        self.noise = noise
        self.latent = latent

    def sample_x(self, n, seed=1):
        rng = np.random.default_rng(seed)
        z = rng.normal(size=(n, self.latent))
        return z @ self.W.T + self.b + self.noise * rng.normal(size=(n, len(self.b)))

    def log_marginal(self, x):
        covariance = self.W @ self.W.T + self.noise**2 * np.eye(len(self.b))
        return stats.multivariate_normal(self.b, covariance).logpdf(x)

    def posterior(self, x):
        """(mean, log_scale) of the exact p(z|x)."""
        variance = 1.0 / (1.0 + np.sum(self.W**2, axis=0) / self.noise**2)
        mean = (x - self.b) @ self.W * variance / self.noise**2
        return mean, np.broadcast_to(0.5 * np.log(variance), mean.shape).copy()

    def log_likelihood_fn(self, x):
        """z (N, d) -> log p(x|z) per example."""
        W, b, x = jnp.asarray(self.W), jnp.asarray(self.b), jnp.asarray(x)
        return lambda z: sum_except_batch(gaussian_log_prob(x, z @ W.T + b, jnp.log(self.noise)))

    def expected_log_likelihood(self, x, mean, log_scale):
        """E_{N(mean, diag exp(2 log_scale))}[log p(x|z)] in closed form."""
        residual = x - mean @ self.W.T - self.b
        trace = np.exp(2 * log_scale) @ np.sum(self.W**2, axis=0)
        D = len(self.b)
        return (
            -0.5 * (np.sum(residual**2, axis=1) + trace) / self.noise**2
            - D * np.log(self.noise)
            - 0.5 * D * np.log(2 * np.pi)
        )
