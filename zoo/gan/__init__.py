"""Adversarial models (SPEC sections 3-5).

    divergences.py   the f-divergence table: f, f', f*, g_f, dom f*, f'(1), the variational bound, T*
    losses.py        f-GAN, WGAN, hinge, one-loss (stop-gradient) GAN, O-GAN terms, GAN-QP penalty
    nets.py          DCGAN generator / critic for 8x8 to 64x64 images, MLP pair for 2-D points
    task.py          GANTask: the two networks through the shared training loop
    plots.py         2-D sample scatter plots as arrays

Lipschitz constraints (spectral normalisation, gradient penalties, clipping) are shared
with the other families in ``zoo.lipschitz``; offline sample quality in ``zoo.sample_quality``.
"""
