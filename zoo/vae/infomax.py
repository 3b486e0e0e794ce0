"""Deep InfoMax (Hjelm et al. 2019, "Learning deep representations by mutual information
estimation and maximization", sec. 3) in the variant of Su Jianlin's blog post "Mutual
information in deep learning: unsupervised feature extraction" (Scientific Spaces, 2018).

An encoder x -> feature map -> global feature -> z ~ N(mu, sigma^2) is trained to make
z informative about x and close to N(0, I):

    L = -alpha * I_JS(global feature; z) - beta * I_JS(local features; z)
        + gamma * E_x KL(p(z|x) || N(0, I))

with the Jensen-Shannon estimator of mutual information (Nowozin et al. 2016,
"f-GAN", sec. 2.2):

    I_JS(a; b) = max_T  E_{p(a, b)}[log sigmoid T(a, b)] + E_{p(a) p(b)}[log(1 - sigmoid T(a, b))]

Negatives (samples of p(a) p(b)) come from shuffling z within the batch.  The bound
equals 2 JSD(p(a, b) || p(a) p(b)) - log 4 at the optimal critic
T* = log p(a, b) / (p(a) p(b)), whose mean under the joint, E_joint[T*], is I(a; b):
``critic_mutual_information`` reads that estimate off a trained critic.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp

INITIAL_LOG_SCALE = -2.0


def jensen_shannon_bound(joint_scores, marginal_scores):
    """E_joint[log sigmoid T] + E_marginal[log(1 - sigmoid T)], written with softplus:

    log sigmoid(t) = -softplus(-t),   log(1 - sigmoid(t)) = -softplus(t).
    """
    return -jnp.mean(jax.nn.softplus(-joint_scores)) - jnp.mean(jax.nn.softplus(marginal_scores))


def critic_mutual_information(joint_scores):
    """E_joint[T]: the mutual information when T is the JS-optimal critic log p(a,b)/(p(a)p(b))."""
    return jnp.mean(joint_scores)


def shuffle_within_batch(key, z):
    """z[perm]: pairs (a_n, z_perm(n)) are draws from the product of marginals p(a) p(z).

    A random derangement would avoid the few pairs a permutation leaves in place; with
    batch sizes in the tens they bias the bound by about 1/N, which we accept.
    """
    return jax.random.permutation(key, z, axis=0)


class InfoMaxEncoder(nn.Module):
    """Conv feature map (local features) -> dense global feature -> (mean, log_scale) of z."""

    latents: int = 64
    channels: tuple = (32, 64)
    hidden: int = 256

    @nn.compact
    def __call__(self, x):
        """(local feature map, global feature, mean, log_scale) of x."""
        for width in self.channels:
            x = nn.relu(nn.Conv(width, (3, 3), strides=(2, 2))(x))
        local = x
        glob = nn.relu(nn.Dense(self.hidden)(x.reshape(x.shape[0], -1)))
        mean, log_scale = jnp.split(nn.Dense(2 * self.latents)(glob), 2, axis=-1)
        # Start with sigma ~ e^-2: at sigma ~ 1 the codes are mostly noise, the critics see no
        # dependence, and training idles for hundreds of steps before breaking symmetry.
        return local, glob, mean, log_scale + INITIAL_LOG_SCALE


class GlobalCritic(nn.Module):
    """T(global feature, z) = MLP([g, z]) -> scalar per pair."""

    hidden: int = 256

    @nn.compact
    def __call__(self, glob, z):
        """T(global feature, z) -> (N,) scores."""
        h = nn.relu(nn.Dense(self.hidden)(jnp.concatenate([glob, z], axis=-1)))
        return nn.Dense(1)(nn.relu(nn.Dense(self.hidden)(h)))[..., 0]


class LocalCritic(nn.Module):
    """T(local feature at each position, z) = 1x1-conv MLP([f_ij, z]) -> (N, h, w) scores."""

    hidden: int = 256

    @nn.compact
    def __call__(self, local, z):
        """T(local feature at each position, z) -> (N, h, w) scores."""
        tiled = jnp.broadcast_to(z[:, None, None, :], (*local.shape[:3], z.shape[-1]))
        h = nn.relu(nn.Dense(self.hidden)(jnp.concatenate([local, tiled], axis=-1)))
        return nn.Dense(1)(nn.relu(nn.Dense(self.hidden)(h)))[..., 0]


class InfoMax(nn.Module):
    """The encoder and both critics as one parameter tree."""

    latents: int = 64
    channels: tuple = (32, 64)
    hidden: int = 256
    critic_hidden: int = 256

    def setup(self):
        """Flax ``setup``: builds the layers the class docstring lists."""
        self.encoder = InfoMaxEncoder(self.latents, tuple(self.channels), self.hidden)
        self.global_critic = GlobalCritic(self.critic_hidden)
        self.local_critic = LocalCritic(self.critic_hidden)

    def __call__(self, x):
        """Both critics' scores at the code's mean: every parameter touched once, for init."""
        local, glob, mean, _ = self.encoder(x)
        return self.global_critic(glob, mean), self.local_critic(local, mean)

    def encode(self, x):
        """(local features, global feature, mean, log_scale) of x."""
        return self.encoder(x)

    def critics(self, local, glob, z):
        """(global scores, local scores) for the pairs (features, z)."""
        return self.global_critic(glob, z), self.local_critic(local, z)


def infomax_loss(
    global_joint, global_marginal, local_joint, local_marginal, kl, alpha: float, beta: float, gamma: float
) -> tuple[jax.Array, dict]:
    """L = -alpha I_JS(global) - beta I_JS(local) + gamma mean(KL): the module docstring's loss."""
    global_mi = jensen_shannon_bound(global_joint, global_marginal)
    local_mi = jensen_shannon_bound(local_joint, local_marginal)
    prior_kl = jnp.mean(kl)
    loss = -alpha * global_mi - beta * local_mi + gamma * prior_kl
    return loss, {'global_js': global_mi, 'local_js': local_mi, 'kl': prior_kl}
