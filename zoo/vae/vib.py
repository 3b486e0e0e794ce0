"""Deep variational information bottleneck (Alemi et al. 2017, "Deep Variational Information
Bottleneck", sec. 3).

A stochastic encoder p(z|x) = N(mu(x), sigma(x)^2) and a classifier q(y|z); the loss

    L = E_{z ~ p(z|x)} [ -log q(y|z) ] + beta * KL(p(z|x) || N(0, I))

is the variational bound on -I(z; y) + beta I(z; x) (their eq. 6 with r(z) = N(0, I)).
At test time the noise is off (z = mu(x)), or q(y|z) is averaged over samples.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from zoo.distributions import kl_standard_normal, sum_except_batch


def vib_loss_terms(class_logits, labels, mean, log_scale, beta: float) -> dict:
    """Per-example cross-entropy -log q(y|z), the KL to N(0, I), and ``loss`` = ce + beta * kl."""
    cross_entropy = optax.softmax_cross_entropy_with_integer_labels(class_logits, labels)
    kl = sum_except_batch(kl_standard_normal(mean, log_scale))
    return {'loss': cross_entropy + beta * kl, 'cross_entropy': cross_entropy, 'kl': kl}


class VIBClassifier(nn.Module):
    """MLP encoder x -> hidden... -> (mean, log_scale) of z; linear softmax classifier z -> y.

    Alemi et al.'s MNIST model: hidden (1024, 1024), 256 latents, sigma = softplus(h - 5)
    so the bottleneck starts nearly deterministic.
    """

    num_classes: int = 10
    hidden: tuple = (1024, 1024)
    latents: int = 256

    def setup(self):
        """Flax ``setup``: builds the layers the class docstring lists."""
        self.layers = [nn.Dense(width) for width in self.hidden]
        self.to_code = nn.Dense(2 * self.latents)
        self.classifier = nn.Dense(self.num_classes)

    def encode(self, x):
        """p(z|x): (mean, log_scale) with scale softplus(h - 5) (Alemi et al. 2017)."""
        h = x.reshape(x.shape[0], -1)
        for layer in self.layers:
            h = nn.relu(layer(h))
        mean, pre_scale = jnp.split(self.to_code(h), 2, axis=-1)
        return mean, jnp.log(jax.nn.softplus(pre_scale - 5.0) + 1e-8)

    def classify(self, z):
        """Logits of q(y|z)."""
        return self.classifier(z)

    def __call__(self, x):
        """Logits of q(y|mean): the deterministic prediction."""
        mean, _ = self.encode(x)
        return self.classify(mean)
