"""Test-session setup, before JAX creates its CPU backend (at the first device query;
conftest.py is imported before any test module).

- Four CPU devices, so data-parallel code runs on a real mesh.
- XLA's backend optimisation level 0: tests run tiny models, where LLVM's optimisation
  passes dominate compile time (a tiny Glow's init compiles about 4x faster); the
  subprocesses that tests start inherit it.
- XLA's CPU legacy emitters (--xla_cpu_use_fusion_emitters=false): the same programs
  compile 30-50% faster (a RealNVP forward 2.3 -> 1.0 s), and the subprocesses inherit it too.
- One JAX persistent compilation cache for the session, in a temporary folder that the
  xdist workers and every subprocess inherit through the environment: the tests build the
  same small programs again and again (a new task per test, the same tiny Glow in a
  notebook's training subprocess and the README's): on 2 cores the suite took 633 s (19.2
  CPU minutes) without the cache, 460-554 s (13.8-16.8) with it.  A folder the user names
  in JAX_COMPILATION_CACHE_DIR is used instead and kept.
"""

import os
import shutil
import tempfile

import numpy as np
import pytest

os.environ['XLA_FLAGS'] = (
    os.environ.get('XLA_FLAGS', '') + ' --xla_backend_optimization_level=0 --xla_cpu_use_fusion_emitters=false'
).strip()

if 'PYTEST_XDIST_WORKER' not in os.environ and not os.environ.get('JAX_COMPILATION_CACHE_DIR'):
    SESSION_CACHE = tempfile.mkdtemp(prefix='zoo-tests-jax-cache-')  # the controller's; workers inherit it
    os.environ['JAX_COMPILATION_CACHE_DIR'] = SESSION_CACHE
else:
    SESSION_CACHE = None
# JAX caches only programs that took 1 s to compile by default, which skips most of the tests' models.
os.environ.setdefault('JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS', '0.1')

import jax  # noqa: E402  (must come after XLA_FLAGS and the cache are set)

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
    # Whole image models (each layer's own checks stay in tests/flows/test_layers.py):
    'tests/flows/test_models.py',
}

# Single tests (every case, or one case by its id) that train something or check a whole
# model or network, in modules otherwise kept fast.
SLOW_TESTS = {
    'tests/flows/test_context.py::test_context_round_trip_exact_log_det_and_use[scanned_autodiff]',
    'tests/flows/test_context.py::test_context_round_trip_exact_log_det_and_use[scanned_unrolled]',
    'tests/flows/test_context.py::test_context_round_trip_exact_log_det_and_use[scanned_invertible]',
    'tests/flows/test_mixed_precision.py::test_bf16_is_finite_invertible_and_close_to_float32',
    'tests/eval/test_weights.py::test_loaded_network_on_the_mesh_gives_pytorch_fids_features',
    'tests/flows/test_invertible_backprop.py::test_glow_gradient_equals_autodiff',
    'tests/flows/test_invertible_backprop.py::test_glow_encode_and_decode_values_are_identical',
    'tests/flows/test_logit.py::test_flow_with_logit_is_the_flow_on_logit_inputs_plus_the_layers_log_det',
    'tests/flows/test_structured_conv1x1.py::test_glow_takes_the_new_convs',
    'tests/gan/test_divergences.py::test_a_critic_trained_alone_recovers_the_divergence',
    'tests/gan/test_fgan_1d.py::test_total_variation_lands_only_with_its_critic_penalty',
    'tests/vae/test_infomax.py::test_trained_critic_approaches_the_optimum_and_separates_dependence',
    'tests/vae/test_conditional.py::test_training_lowers_the_conditional_negative_elbo',
    'tests/ebm/test_replay_buffer.py::test_buffer_survives_a_killed_and_resumed_run',
    'tests/test_ae_kmeans.py::test_codes_of_a_trained_autoencoder_cluster_separable_classes',
}


@pytest.fixture(autouse=True, scope='session')
def contained_temporary_files(tmp_path_factory):
    """Temporary files of the tests and their subprocesses go under pytest's own folder, which
    pytest prunes: TFDS leaves an empty ``mkdtemp('tfds')`` folder each time it looks for a
    dataset's metadata online (``tensorflow_datasets/core/dataset_info.py``,
    ``initialize_from_bucket``), hundreds in /tmp after a suite."""
    folder = str(tmp_path_factory.mktemp('tmp'))
    saved = tempfile.tempdir, os.environ.get('TMPDIR')
    tempfile.tempdir, os.environ['TMPDIR'] = folder, folder
    yield
    tempfile.tempdir = saved[0]
    if saved[1] is None:
        del os.environ['TMPDIR']
    else:
        os.environ['TMPDIR'] = saved[1]


@pytest.fixture
def npz_next_to_configs(tmp_path, monkeypatch):
    """npz configs name a file where they run (mnist32.npz): write a small one there, with
    labels 0-9 as the conditional configs need."""
    monkeypatch.chdir(tmp_path)
    images = np.zeros((10, 32, 32, 1), np.uint8)
    labels = np.arange(10)
    np.savez(tmp_path / 'mnist32.npz', x_train=images, x_test=images, y_train=labels, y_test=labels)


def pytest_unconfigure(config):
    if SESSION_CACHE is not None:
        shutil.rmtree(SESSION_CACHE, ignore_errors=True)


def pytest_collection_modifyitems(config, items):
    root = config.rootpath
    for item in items:
        module = item.path.relative_to(root).as_posix()
        if module in SLOW_MODULES or {f'{module}::{item.originalname}', f'{module}::{item.name}'} & SLOW_TESTS:
            item.add_marker('slow')
