"""Test-session setup, before JAX creates its CPU backend (at the first device query;
conftest.py is imported before any test module).

- Four CPU devices, so data-parallel code runs on a real mesh.
- XLA's backend optimisation level 0: tests run tiny models, where LLVM's optimisation
  passes dominate compile time (a tiny Glow's init compiles about 4x faster); the
  subprocesses that tests start inherit it.
"""

import os

os.environ['XLA_FLAGS'] = (os.environ.get('XLA_FLAGS', '') + ' --xla_backend_optimization_level=0').strip()

import jax  # noqa: E402  (must come after XLA_FLAGS is set)

jax.config.update('jax_num_cpu_devices', 4)
