"""Train gan_onestep on the embedded digits (default) or a paper config: python -m experiments.gan_onestep --help"""

from experiments.runner import main

if __name__ == "__main__":
    main("gan_onestep")
