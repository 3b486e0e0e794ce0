"""Train nice: python -m experiments.nice --help"""

from experiments.runner import main

if __name__ == "__main__":
    main("nice")
