"""Energy-based models and their relatives trained without a discriminator or a likelihood.

    langevin        Langevin dynamics and MALA on any energy (pure lax.scan chains)
    replay_buffer   the fixed-size buffer of past negatives, kept in the train state
    energy          the energy networks (spectrally normalised convnet, 2-D MLP)
    loss            the EBM contrastive loss with its U^2 regulariser
    task            EBMTask: the image EBM through the shared loop
    points          the same EBM on 2-D points (make ebm-2d)
    imle            IMLE matching, GLO latents on the sphere, pluggable distances
    generator       GLO's generator and GLANN's latent mapper
    image_index     which training image a batch image is (GLO's per-image latents)
    glann_task      GLANNTask: GLO, then IMLE in latent space
"""

from zoo.ebm import replay_buffer
from zoo.ebm.langevin import energy_grad, langevin_chain, mala_chain, mala_log_proposal
