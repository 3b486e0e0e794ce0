"""Train the one-step clustering VAE on digits (default) or a seed config: python -m experiments.vae_cluster --help"""

from experiments.runner import main

if __name__ == '__main__':
    main('vae_cluster')
