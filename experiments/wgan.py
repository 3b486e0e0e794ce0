"""Train wgan on the embedded digits (default) or a paper config: python -m experiments.wgan --help"""

from experiments.runner import main

if __name__ == "__main__":
    main("wgan")
