"""Train a VIB classifier on digits (default) or a paper config: python -m experiments.vib --help"""

from experiments.runner import main

if __name__ == '__main__':
    main('vib')
