"""Pictures: image sheets (PNG), latent interpolation grids, matplotlib figures for notebooks."""
