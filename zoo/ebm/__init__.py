"""Energy-based models: q(x) = exp(-U(x)) / Z, trained with Langevin negatives.

langevin        Langevin dynamics and MALA on any energy (pure lax.scan chains)
replay_buffer   the fixed-size buffer of past negatives, kept in the train state
energy          the energy networks (convnet for images, MLP for 2-D points)
loss            the EBM contrastive loss with its U^2 regulariser
task            EBMTask: an image or 2-D point EBM through the shared loop
"""

from zoo.ebm import replay_buffer
from zoo.ebm.langevin import energy_grad, langevin_chain, mala_chain, mala_log_proposal
