"""Train nice on the embedded digits (default) or a paper config: python -m experiments.nice --help"""

from experiments.runner import main

if __name__ == '__main__':
    main('nice')
