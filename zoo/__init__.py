"""Readable, tested generative models in JAX: normalizing flows, VAEs, f-GANs, EBMs and their primitives.

The families live in subpackages (``zoo.flows``, ``zoo.residual``, ``zoo.vae``, ``zoo.gan``,
``zoo.ebm``, ``zoo.imle``), the shared primitives in modules (``zoo.linalg``,
``zoo.lipschitz``, ``zoo.distributions``, ``zoo.metrics``), and the one training loop in
``zoo.train``.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version('zoo')  # single source: pyproject.toml's [project] version
except PackageNotFoundError:  # a checkout on sys.path that was never installed
    __version__ = '0+unknown'
