"""Train ogan on the embedded digits (default) or a paper config: python -m experiments.ogan --help"""

from experiments.runner import main

if __name__ == "__main__":
    main("ogan")
