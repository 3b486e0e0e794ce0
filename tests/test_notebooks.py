"""Every notebook in notebooks/ runs headless on the tiny path without a cell error.

The kernel gets ZOO_NOTEBOOK_TINY=1 and temporary directories for the Glow checkpoint
and the figures, so a run never touches workdirs/ or notebooks/figures/.  The Glow
notebooks share one fallback workdir: whichever runs first trains the tiny Glow, the
other loads it.  Stored notebooks must have their outputs stripped.
"""

import os
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))
FIGURES = {
    "gan_divergences.ipynb": "gan_divergences.png",
    "glow_interpolation.ipynb": "glow_interpolation.png",
    "glow_sampling.ipynb": "glow_sampling.png",
    "toy_densities.ipynb": "toy_densities.png",
    "vae_latent_space.ipynb": "vae_latent_space.png",
}


@pytest.fixture(scope="module")
def tiny_env(tmp_path_factory):
    root = tmp_path_factory.mktemp("notebooks")
    env = {
        "ZOO_NOTEBOOK_TINY": "1",
        "ZOO_NOTEBOOK_FIGURES": str(root / "figures"),
        "ZOO_GLOW_WORKDIR": str(root / "no-such-run"),
        "ZOO_GLOW_FALLBACK_WORKDIR": str(root / "glow"),
        "ZOO_VAE_WORKDIR": str(root / "no-such-run"),
        "ZOO_VAE_CLUSTER_WORKDIR": str(root / "no-such-run"),
        "ZOO_VAE_FALLBACK_WORKDIR": str(root / "vae"),
        "JAX_PLATFORMS": "cpu",
        # The kernel shares the CPU with the other pytest worker: one XLA thread each keeps
        # their spinning thread pools from starving each other (a Glow notebook once took
        # 620 s in the full suite against 16 s alone).
        "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
        # The kernel starts in notebooks/; make `zoo` importable even without `pip install -e .`.
        "PYTHONPATH": os.pathsep.join(filter(None, [str(NOTEBOOKS.parent), os.environ.get("PYTHONPATH")])),
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    }
    return root, env


def test_every_notebook_is_listed():
    assert sorted(p.name for p in PATHS) == sorted(FIGURES)


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_outputs_are_stripped(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, \
                f"{path.name}: strip outputs before committing (jupyter nbconvert --clear-output --inplace)"


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_notebook_runs(path, tiny_env, monkeypatch):
    from nbclient import NotebookClient

    root, env = tiny_env
    for k, v in env.items():
        monkeypatch.setenv(k, v)  # the kernel inherits this process's environment
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()  # raises CellExecutionError, with the cell and traceback, if a cell fails
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    figure = root / "figures" / FIGURES[path.name]
    assert figure.is_file() and figure.stat().st_size > 1000
