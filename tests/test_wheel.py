"""The wheel works outside the repository: built, installed into a fresh virtual environment,
and used from another directory (an import, a primitive and a short training run).

Offline: the wheel is built with this environment's setuptools (no build isolation), and
installed with ``--no-deps``; the fresh environment sees this environment's site-packages
(jax, flax, ...) through a ``.pth`` file, which adds them as plain paths, so the project's
own editable install there is not activated and ``zoo`` can only come from the wheel.
"""

import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

USE = """
import jax.numpy as jnp
import zoo
from zoo.flows import affine_transform
from zoo.train import Config, train

print('zoo', zoo.__version__, zoo.__file__)
x, shift, log_scale = jnp.ones((2, 3)), jnp.full((2, 3), 0.5), jnp.full((2, 3), 0.25)
y, log_det = affine_transform(x, shift, log_scale)
x_back, log_det_back = affine_transform(y, shift, log_scale, inverse=True)
assert jnp.allclose(x_back, x, atol=1e-6) and jnp.allclose(log_det, 0.75) and jnp.allclose(log_det_back, -0.75)
config = Config(task='glow', model={'scales': 2, 'flow_steps': 2, 'hidden': 8}, steps=3, batch_size=16,
                eval_batch_size=128, log_every=1, eval_every=1000, sample_every=1000)
summary = train(config, 'run')  # in the test's own folder (cwd), not left in /tmp
print('test bpd', summary['test']['bpd'])
assert summary['step'] == 3 and 0 < summary['test']['bpd'] < 10
"""


def run(*args, **kwargs):
    result = subprocess.run(args, capture_output=True, text=True, timeout=600, **kwargs)
    assert result.returncode == 0, f'{args}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}'
    return result.stdout


@pytest.mark.slow
def test_the_wheel_installs_and_runs_outside_the_repository(tmp_path):
    wheels = tmp_path / 'wheels'
    run(sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '-q', '-w', str(wheels), str(REPO))
    (wheel,) = wheels.glob('zoo-*.whl')

    env_dir = tmp_path / 'env'
    venv.create(env_dir)  # without pip (ensurepip takes 6 s): this environment's pip installs into it
    python = env_dir / 'bin' / 'python'
    site = run(str(python), '-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])').strip()
    Path(site, 'project_deps.pth').write_text(sysconfig.get_paths()['purelib'] + '\n')
    run(sys.executable, '-m', 'pip', '--python', str(python), 'install', '-q', '--no-deps', '--no-index', str(wheel))

    elsewhere = tmp_path / 'elsewhere'
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    out = run(str(python), '-c', USE, cwd=elsewhere, env=env)
    assert str(env_dir) in out.split('\n')[0], out  # zoo came from the wheel, not the checkout
    assert 'test bpd' in out
