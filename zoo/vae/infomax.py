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

Negatives (samples of p(a) p(b)) come from shuffling z within the batch (the 'concat'
critic, MLP([a, z]), as in Su's code), or are every other example of the batch (the 'dot'
critic, DIM's encode-and-dot-product), which also allows InfoNCE.  The JS bound
equals 2 JSD(p(a, b) || p(a) p(b)) - log 4 at the optimal critic
T* = log p(a, b) / (p(a) p(b)), whose mean under the joint, E_joint[T*], is I(a; b):
``critic_mutual_information`` reads that estimate off a trained critic.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp

INITIAL_LOG_SCALE = -2.0
CRITICS = ('concat', 'dot')


def jensen_shannon_bound(joint_scores, marginal_scores):
    """E_joint[log sigmoid T] + E_marginal[log(1 - sigmoid T)], written with softplus:

    log sigmoid(t) = -softplus(-t),   log(1 - sigmoid(t)) = -softplus(t).
    """
    return -jnp.mean(jax.nn.softplus(-joint_scores)) - jnp.mean(jax.nn.softplus(marginal_scores))


def pairwise_jensen_shannon_bound(scores):
    """The JS bound over every pair of the batch: ``scores[i, ..., j]`` = T(features of i, z_j).

    Joint pairs are i = j, the product of marginals every i != j (Hjelm et al. 2019, sec. 3.1,
    negatives from the other examples of the batch); the middle axes (positions) are averaged.
    """
    joint, same = _joint_scores(scores)
    marginal = jnp.broadcast_to(~same, scores.shape)
    return -jnp.mean(jax.nn.softplus(-joint)) - jnp.sum(jnp.where(marginal, jax.nn.softplus(scores), 0.0)) / jnp.sum(
        marginal
    )


def info_nce_bound(scores):
    """InfoNCE (van den Oord et al. 2018, eq. 4): E_i[T(i, z_i) - log sum_j exp T(i, z_j)] + log N <= I.

    ``scores[i, ..., j]`` = T(features of i, z_j); the bound cannot exceed log N.
    """
    joint, _ = _joint_scores(scores)
    return jnp.mean(joint - jax.nn.logsumexp(scores, axis=-1)) + jnp.log(scores.shape[-1])


def _joint_scores(scores):
    """(scores[i, ..., i], the mask i == j broadcastable to ``scores``) of (N, ..., N) scores."""
    n = scores.shape[0]
    if scores.shape[-1] != n:
        raise ValueError(f'scores must be (N, ..., N), got shape {scores.shape}')
    same = jnp.eye(n, dtype=bool).reshape((n,) + (1,) * (scores.ndim - 2) + (n,))
    return jnp.sum(jnp.where(same, scores, 0.0), axis=-1), same


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
    """Stride-2 convs -> dense global feature -> (mean, log_scale) of z.

    The local features are the output of conv layer ``local_layer`` (1 the first; None the last).
    Hjelm et al. (2019, sec. 3.2) take them from a layer whose positions each see a patch of
    the image: the code must then carry what the patches share.  Two stride-2 3x3 convs on
    8x8 digits leave a 2x2 map whose positions see 7x7 of the 8x8 pixels, i.e. the image.
    """

    latents: int = 64
    channels: tuple = (32, 64)
    hidden: int = 256
    local_layer: int | None = None

    @nn.compact
    def __call__(self, x):
        """(local feature map, global feature, mean, log_scale) of x."""
        maps = []
        for width in self.channels:
            x = nn.relu(nn.Conv(width, (3, 3), strides=(2, 2))(x))
            maps.append(x)
        local = maps[-1 if self.local_layer is None else self.local_layer - 1]
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


class _Embedding(nn.Module):
    """x -> Dense(x) + Dense(relu(Dense(x))): DIM's critic embedding, a linear map plus an MLP."""

    features: int

    @nn.compact
    def __call__(self, x):
        return nn.Dense(self.features)(x) + nn.Dense(self.features)(nn.relu(nn.Dense(self.features)(x)))


class DotCritic(nn.Module):
    """T(a, z) = <f(a), g(z)> / sqrt(d) for every a against every z of the batch: (N, ..., N) scores.

    The encode-and-dot-product critic of Hjelm et al. (2019, app. A.2); one pass scores all
    N^2 pairs, so every other example of the batch is a negative.
    """

    hidden: int = 256

    @nn.compact
    def __call__(self, features, z):
        """``features`` (N, ..., c), z (N, d) -> (N, ..., N) scores."""
        a, b = _Embedding(self.hidden)(features), _Embedding(self.hidden)(z)
        return jnp.einsum('...k,mk->...m', a, b) / jnp.sqrt(self.hidden)


class InfoMax(nn.Module):
    """The encoder and both critics as one parameter tree."""

    latents: int = 64
    channels: tuple = (32, 64)
    hidden: int = 256
    critic_hidden: int = 256
    local_layer: int | None = None
    critic: str = 'concat'  # 'concat': MLP([a, z]) on shuffled pairs; 'dot': DotCritic on all pairs

    def setup(self):
        """Flax ``setup``: builds the layers the class docstring lists."""
        if self.critic not in CRITICS:
            raise ValueError(f'unknown critic {self.critic!r}; use one of {list(CRITICS)}')
        self.encoder = InfoMaxEncoder(self.latents, tuple(self.channels), self.hidden, self.local_layer)
        if self.critic == 'dot':
            self.global_critic, self.local_critic = DotCritic(self.critic_hidden), DotCritic(self.critic_hidden)
        else:
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


def infomax_loss(global_mi, local_mi, kl, alpha: float, beta: float, gamma: float) -> tuple[jax.Array, dict]:
    """L = -alpha I(global) - beta I(local) + gamma mean(KL): the module docstring's loss, from the two bounds."""
    prior_kl = jnp.mean(kl)
    loss = -alpha * global_mi - beta * local_mi + gamma * prior_kl
    return loss, {'global_mi': global_mi, 'local_mi': local_mi, 'kl': prior_kl}
