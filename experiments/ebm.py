"""Train an energy-based model on the embedded digits (default) or CIFAR-10: python -m experiments.ebm --help"""

from experiments.runner import main

if __name__ == '__main__':
    main('ebm')
