"""Every notebook in notebooks/ runs headless on the tiny path, exactly as a user's Jupyter runs it.

The kernel starts in notebooks/ with no PYTHONPATH: it finds `support` next to the
notebook and `zoo` where the package is installed.  It gets ZOO_NOTEBOOK_TINY=1 and a
temporary ZOO_WORKDIRS and figures folder, so a run never touches workdirs/ or
notebooks/figures/.  The notebooks share that workdirs folder: whichever needs a run
first trains it (`python -m experiments.train`), the others load it, and JAX's
persistent compilation cache (the test session's, conftest.py) spares later kernels the
compilations already made.
Stored notebooks must have their outputs stripped.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / 'notebooks'
PATHS = sorted(NOTEBOOKS.glob('*.ipynb'))
FIGURES = {
    'conditional_sampling.ipynb': 'conditional_sampling.png',
    'gan_divergences.ipynb': 'gan_divergences.png',
    'glow_interpolation.ipynb': 'glow_interpolation.png',
    'glow_sampling.ipynb': 'glow_sampling.png',
    'toy_densities.ipynb': 'toy_densities.png',
    'vae_latent_space.ipynb': 'vae_latent_space.png',
}


def user_environment(root: Path) -> dict:
    """This process's environment as a user's shell would have it: no PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    env.update(
        {
            'ZOO_NOTEBOOK_TINY': '1',
            'ZOO_NOTEBOOK_FIGURES': str(root / 'figures'),
            'ZOO_WORKDIRS': str(root / 'workdirs'),
            'JAX_PLATFORMS': 'cpu',
            'MPLBACKEND': 'module://matplotlib_inline.backend_inline',
            # Keep the test session's XLA flags (conftest.py: backend optimisation level 0, which
            # makes compiling these tiny models 2-3x cheaper), and run the kernel's XLA on one
            # thread beside the other pytest worker.
            'XLA_FLAGS': (os.environ.get('XLA_FLAGS', '') + ' --xla_cpu_multi_thread_eigen=false').strip(),
        }
    )
    return env


@pytest.fixture(scope='module')
def tiny_root(tmp_path_factory):
    return tmp_path_factory.mktemp('notebooks')


def test_every_notebook_is_listed():
    assert sorted(p.name for p in PATHS) == sorted(FIGURES)


@pytest.mark.parametrize('path', PATHS, ids=lambda p: p.stem)
def test_every_notebook_is_in_the_docs_navigation(path):
    # mkdocs --strict (CI's `make docs`) fails on a page that exists but is not in the nav.
    summary = (NOTEBOOKS.parent / 'docs' / 'SUMMARY.md').read_text()
    assert f'(notebooks/{path.name})' in summary


@pytest.mark.parametrize('path', PATHS, ids=lambda p: p.stem)
def test_outputs_are_stripped(path):
    # Plain JSON: importing nbformat takes 1-4 s (its schema validator builds a grammar), in every worker.
    for cell in json.loads(path.read_text())['cells']:
        if cell['cell_type'] == 'code':
            assert cell['outputs'] == [] and cell['execution_count'] is None, (
                f'{path.name}: strip outputs before committing (jupyter nbconvert --clear-output --inplace)'
            )


@pytest.mark.parametrize('path', [*PATHS, NOTEBOOKS / 'support.py'], ids=lambda p: p.name)
def test_notebooks_import_only_the_library_and_support(path):
    """`experiments` is importable only from the repository root, where no kernel starts."""
    text = path.read_text()
    assert 'from experiments' not in text and 'import experiments' not in text


def test_support_imports_from_the_notebook_folder(tmp_path):
    result = subprocess.run(
        [sys.executable, '-c', 'import support; print(support.settings().tiny)'],
        cwd=NOTEBOOKS,
        env=user_environment(tmp_path),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == 'True'


def polled_in_slices(get_msg, seconds: float = 2.0):
    """``get_msg(timeout)`` of a kernel client's channel, waiting in slices of ``seconds``.

    pyzmq's asyncio poll can miss the wake-up of a reply that reaches the client's shell socket
    while it sends (an edge-triggered ZMQ_FD consumed by the send): the reply then sits unread
    until the poll times out, and its final zero-timeout poll finds it.  nbclient waits for a
    cell's reply with the whole cell timeout (600 s), so a missed wake-up stalled a notebook
    test for 600 s, seen 3 times in full suites on a loaded machine (glow_interpolation, the
    kernel idle and the client waiting: py-spy, session 17).  Short polls bound such a stall to
    ``seconds``; the overall timeout is unchanged.
    """
    import time
    from queue import Empty

    async def get(timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = seconds if deadline is None else min(seconds, max(0.0, deadline - time.monotonic()))
            try:
                return await get_msg(timeout=left)
            except Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    raise

    return get


def test_sliced_polls_wait_until_a_reply_or_the_deadline():
    import asyncio
    from queue import Empty

    calls = []

    async def reply_on_third_poll(timeout):
        calls.append(timeout)
        if len(calls) < 3:
            raise Empty
        return 'reply'

    assert asyncio.run(polled_in_slices(reply_on_third_poll, 0.5)(timeout=600)) == 'reply'
    assert calls == [0.5, 0.5, 0.5]  # three short polls, not one of 600 s

    async def no_reply(timeout):
        raise Empty

    with pytest.raises(Empty):
        asyncio.run(polled_in_slices(no_reply, 0.5)(timeout=0.01))


@pytest.mark.slow
@pytest.mark.parametrize('path', PATHS, ids=lambda p: p.stem)
def test_notebook_runs(path, tiny_root, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    class Client(NotebookClient):
        async def async_start_new_kernel_client(self):
            kc = await super().async_start_new_kernel_client()
            for channel in (kc.shell_channel, kc.iopub_channel):
                channel.get_msg = polled_in_slices(channel.get_msg)
            return kc

    monkeypatch.delenv('PYTHONPATH', raising=False)
    for k, v in user_environment(tiny_root).items():
        monkeypatch.setenv(k, v)  # the kernel inherits this process's environment
    nb = nbformat.read(path, as_version=4)
    client = Client(nb, timeout=600, kernel_name='python3', resources={'metadata': {'path': str(NOTEBOOKS)}})
    client.execute()  # raises CellExecutionError, with the cell and traceback, if a cell fails
    errors = [o for c in nb.cells if c.cell_type == 'code' for o in c.outputs if o.output_type == 'error']
    assert not errors
    figure = tiny_root / 'figures' / FIGURES[path.name]
    assert figure.is_file() and figure.stat().st_size > 1000
