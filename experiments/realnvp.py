"""Train realnvp: python -m experiments.realnvp --help"""

from experiments.runner import main

if __name__ == "__main__":
    main("realnvp")
