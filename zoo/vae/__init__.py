"""Variational autoencoders: the ELBO, the importance-weighted bound, the KL split, and the
VAE-family tasks (plain VAE, one-step clustering VAE, VIB) built on them."""

from zoo.vae.elbo import ElboTerms, elbo, negative_elbo_loss
from zoo.vae.information import kl_split
from zoo.vae.iwae import iwae_bound, log_importance_weights
