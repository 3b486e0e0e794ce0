"""Generators trained by matching, without a discriminator or a likelihood.

imle   IMLE's nearest-neighbour matching, GLO's latents on the sphere, the distances
       both match with (L2, Laplacian pyramid)
task   GLANNTask: GLO, then IMLE in latent space, through the shared loop
"""
