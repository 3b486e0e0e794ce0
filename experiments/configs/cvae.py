"""Conditional VAE (Sohn et al. 2015) configs: the VAE recipes with the label given to
encoder and decoder (``zoo.vae.conditional``)."""

import dataclasses

from experiments.configs import vae

CONFIGS = ('digits', 'digits_conv', 'mnist')


def _conditional(config):
    return dataclasses.replace(config, task='cvae', task_kwargs={**config.task_kwargs, 'temperature': 1.0})


def digits():
    """``vae.digits`` conditioned on the digit: MLP 64-500-20, Bernoulli, 3000 steps."""
    return _conditional(vae.digits())


def digits_conv():
    """``vae.digits_conv`` conditioned on the digit."""
    return _conditional(vae.digits_conv())


def mnist():
    """``vae.mnist`` (784-500-20, 10 epochs) conditioned on the digit."""
    return _conditional(vae.mnist())
