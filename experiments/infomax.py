"""Train Deep InfoMax on digits (default) or a seed config: python -m experiments.infomax --help"""

from experiments.runner import main

if __name__ == '__main__':
    main('infomax')
