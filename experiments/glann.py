"""Train GLANN (GLO, then IMLE in latent space) on the embedded digits (default): python -m experiments.glann --help"""

from experiments.runner import main

if __name__ == '__main__':
    main('glann')
