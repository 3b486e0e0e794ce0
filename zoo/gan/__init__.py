"""Adversarial models: f-GAN (Nowozin et al. 2016), WGAN (Arjovsky et al. 2017; Gulrajani et al. 2017),
hinge (Miyato et al. 2018), the one-loss GAN and O-GAN (Su 2019).

    divergences.py   the f-divergence table: f, f', f*, g_f, dom f*, f'(1), the variational bound, T*
    losses.py        the games' losses as pure functions of critic outputs; GAN-QP penalty
    games.py         each game (f-GAN, WGAN, hinge, one-loss, O-GAN) as one small object, and the registry
    constraints.py   the critic's Lipschitz constraint (spectral, gradient penalties, clipping) as one object
    nets.py          DCGAN generator / critic for 8x8 to 64x64 images, MLP pair for points (and GLANN)
    task.py          GANTask: the two networks through the shared training loop
    plots.py         2-D sample scatter plots as arrays

Lipschitz constraints (spectral normalisation, gradient penalties, clipping) are shared
with the other families in ``zoo.lipschitz``; offline sample quality in ``zoo.sample_quality``.
"""
