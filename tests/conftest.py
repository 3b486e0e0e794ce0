"""Test-session setup, before JAX creates its CPU backend (at the first device query;
conftest.py is imported before any test module).

- Four CPU devices, so data-parallel code runs on a real mesh.
- XLA's backend optimisation level 0: tests run tiny models, where LLVM's optimisation
  passes dominate compile time (a tiny Glow's init compiles about 4x faster); the
  subprocesses that tests start inherit it.
- XLA's CPU legacy emitters (--xla_cpu_use_fusion_emitters=false): the same programs
  compile 30-50% faster (a RealNVP forward 2.3 -> 1.0 s), and the subprocesses inherit it too.
"""

import os

os.environ['XLA_FLAGS'] = (
    os.environ.get('XLA_FLAGS', '') + ' --xla_backend_optimization_level=0 --xla_cpu_use_fusion_emitters=false'
).strip()

import jax  # noqa: E402  (must come after XLA_FLAGS is set)

jax.config.update('jax_num_cpu_devices', 4)

# Whole runs through the training loop (several compilations each), benchmarks and
# multi-device runs: marked slow, so `make test-fast` keeps to the unit tests.
# One list here rather than a marker in each file, so the edit loop's contents are
# visible in one place.
SLOW_MODULES = {
    'tests/train/test_loop.py',
    'tests/train/test_resume.py',
    'tests/train/test_distributed.py',
    'tests/train/test_checkpoint.py',
    'tests/train/test_protocol.py',
    'tests/test_bench.py',
    'tests/test_bench_profile.py',
    'tests/test_bench_estimators.py',
    'tests/test_tasks.py',
    'tests/eval/test_evaluate.py',
    'tests/test_iresnet_experiments.py',
    'tests/flows/test_task.py',
    'tests/residual/test_task.py',
    'tests/vae/test_task.py',
    'tests/ebm/test_task.py',
    'tests/ebm/test_ebm_2d.py',
    'tests/imle/test_task.py',
    'tests/gan/test_task.py',
    'tests/gan/test_fgan_2d.py',
    'tests/data/test_sources.py',
    # Task-level training, whole image models and multi-device runs beyond the core loop's:
    'tests/train/test_step.py',
    'tests/test_conditional_devices.py',
    'tests/test_gpu_bench.py',
    'tests/flows/test_conditional_task.py',
    'tests/residual/test_models.py',
    'tests/vae/test_vib_task.py',
    'tests/vae/test_fvae_task.py',
    'tests/vae/test_infomax_task.py',
    'tests/vae/test_clustering_task.py',
    'tests/gan/test_conditional.py',
}


def pytest_collection_modifyitems(config, items):
    root = config.rootpath
    for item in items:
        if item.path.relative_to(root).as_posix() in SLOW_MODULES:
            item.add_marker('slow')
