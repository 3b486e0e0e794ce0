"""Train glow: python -m experiments.glow --help"""

from experiments.runner import main

if __name__ == "__main__":
    main("glow")
