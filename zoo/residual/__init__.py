"""Invertible ResNets (Behrmann et al. 2019) and Residual Flows (Chen et al. 2019).

activations.py  LipSwish and ELU (derivatives at most 1)
nets.py         g as pure functions of spectrally normalised weights, and the modules holding them
logdet.py       ln det(I + J_g): exact, power series + Hutchinson, Russian roulette, Neumann gradient
inverse.py      the fixed-point inverse x = y - g(x), with its reached error
block.py        the residual block y = x + g(x)
models.py       multi-scale image model and flat 2-D model
task.py         training through the shared loop
"""
