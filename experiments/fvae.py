"""Train an f-VAE on digits (default) or a seed config: python -m experiments.fvae --help"""

from experiments.runner import main

if __name__ == '__main__':
    main('fvae')
