"""Two processes joined by jax.distributed (CPU collectives over gloo) train like one process.

The two runs differ only in the order in which the gradient's four per-device shares
are summed (across processes through gloo, or within one process), so they agree to
float32 rounding of that sum, amplified by Adam.  The tolerance is derived from that:
a sum of 4 terms in another order moves each gradient entry by at most
3 eps32 sum|g_d| <= 12 eps32 |g|_2, and Adam's normalised update m / (sqrt(v) + eps)
moves by at most that over eps per step, times the learning rate.  The test uses
eps = 1e-3 so that this bound is tight enough to mean something (with eps = 1e-8 an
entry whose gradient is at rounding level may flip its update's sign).
"""

import os
import socket
import subprocess
import sys

import jax
import numpy as np
import pytest

from tests.train.tiny import GlobalSlices, state_of, tiny_config
from zoo import data
from zoo.train import OptimizerConfig, read_metrics, train

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LR, EPS, STEPS = 1e-2, 1e-3, 6

# One of two processes with two CPU devices each: four devices in all, as in this test process.
WORKER = """
import sys
import jax
jax.config.update('jax_num_cpu_devices', 2)
jax.config.update('jax_cpu_collectives_implementation', 'gloo')
jax.distributed.initialize(f'localhost:{sys.argv[1]}', num_processes=2, process_id=int(sys.argv[2]),
                           initialization_timeout=60)
assert jax.device_count() == 4 and jax.local_device_count() == 2
from tests.train.test_distributed import config
from tests.train.tiny import GlobalSlices
from zoo import data
from zoo.train import train
summary = train(config(), sys.argv[3], dataset=GlobalSlices(data.open_dataset('digits')))
print('test_bpd', summary['test']['bpd'])
"""


def config():
    return tiny_config(
        steps=STEPS, checkpoint_every=0, log_every=1, optimizer=OptimizerConfig(lr=LR, eps=EPS, warmup_steps=0)
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('localhost', 0))
        return s.getsockname()[1]


def test_two_processes_match_one_process(tmp_path):
    port = free_port()
    workers = [
        subprocess.Popen(
            [sys.executable, '-c', WORKER, str(port), str(i), str(tmp_path / 'two')],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    outputs = [w.communicate(timeout=180) for w in workers]
    for w, (_out, err) in zip(workers, outputs):
        if w.returncode and 'gloo' in err.lower() and 'not' in err.lower() and 'support' in err.lower():
            pytest.skip(f'this JAX build has no CPU collectives across processes: {err[-300:]}')
        assert w.returncode == 0, err[-3000:]

    one = train(config(), tmp_path / 'one', dataset=GlobalSlices(data.open_dataset('digits')))
    grad_norm = max(r['grad_norm'] for r in read_metrics(tmp_path / 'one' / 'metrics.jsonl') if 'grad_norm' in r)
    atol = 4 * STEPS * LR * 12 * np.finfo(np.float32).eps * grad_norm / EPS  # 4: second-order slack
    two, ref = state_of(tmp_path / 'two').params, state_of(tmp_path / 'one').params
    flat = [np.concatenate([np.ravel(np.asarray(x)) for x in jax.tree.leaves(t)]) for t in (two, ref)]
    np.testing.assert_allclose(flat[0], flat[1], rtol=0, atol=atol)
    two_bpd = float(outputs[0][0].split('test_bpd')[-1])
    assert abs(two_bpd - one['test']['bpd']) < 1e-4
