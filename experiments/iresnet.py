"""Train an invertible ResNet on the embedded digits (default) or a paper config: python -m experiments.iresnet --help"""

from experiments.runner import main

if __name__ == '__main__':
    main('iresnet')
