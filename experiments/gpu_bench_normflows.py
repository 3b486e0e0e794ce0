"""The peer side of ``experiments.gpu_bench``: normflows' (PyTorch) Glow timed like the zoo's.

    python experiments/gpu_bench_normflows.py --records FILE [--batches 64,256,512] [--levels 3]
        [--flow-steps 32] [--hidden 512] [--permutation conv1x1|lu] [--logit 1e-6] [--steps 8] [--warmup 2]

Imports only torch, numpy and normflows (never the zoo or JAX), so it runs under any Python
that has them: the GPU machine's own, or a scratch venv here.  Appends one JSON line per batch
size to ``--records``.  The model is normflows' own multi-scale Glow, built as in its Glow
example (one ``GlowBlock`` per step of flow: ActNorm, 1x1 conv, affine coupling with a
3x3-1x1-3x3 network; per-position Gaussians for the split and top latents), the same
architecture as the zoo's Glow with ``learned_split=False, positional_prior=True``.

Per batch size (ascending, on a fresh model): the first training step alone (ActNorm's data
init, cuDNN's kernel choice), then ``warmup`` steps, then the median of ``steps`` steps, each
ended by ``torch.cuda.synchronize()``; peak memory is ``torch.cuda.max_memory_allocated``
after a reset.  PyTorch's defaults stand (eager mode, float32, TF32 convolutions on), as a
normflows user runs it; they are recorded.
"""

import argparse
import json
import statistics
import time

import normflows as nf
import torch


def build(shape, levels, flow_steps, hidden, use_lu, logit):
    """normflows' multi-scale Glow on ``shape`` = (C, H, W); its list index 0 is the coarsest level."""
    c, h, w = shape
    q0, merges, flows = [], [], []
    for i in range(levels):
        channels = c * 2 ** (levels + 1 - i)
        flows.append(
            [
                nf.flows.GlowBlock(channels, hidden, split_mode='channel', scale=True, use_lu=use_lu)
                for _ in range(flow_steps)
            ]
            + [nf.flows.Squeeze()]
        )
        if i > 0:
            merges.append(nf.flows.Merge())
            latent = (c * 2 ** (levels - i), h // 2 ** (levels - i), w // 2 ** (levels - i))
        else:
            latent = (c * 2 ** (levels + 1), h // 2**levels, w // 2**levels)
        q0.append(nf.distributions.DiagGaussian(latent))
    transform = nf.transforms.Logit(alpha=logit) if logit else None
    return nf.MultiscaleFlow(q0, flows, merges, transform=transform, class_cond=False)


def sync(device):
    if device.type == 'cuda':
        torch.cuda.synchronize()


def measure(a, batch, device):
    """One batch size: first step, median step, peak memory."""
    torch.manual_seed(a.seed)
    model = build((3, 32, 32), a.levels, a.flow_steps, a.hidden, a.permutation == 'lu', a.logit).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    pixels = torch.randint(0, 256, (batch, 3, 32, 32), dtype=torch.uint8, device=device)

    def step():
        x = (pixels.float() + torch.rand(pixels.shape, device=device)) / 256
        loss = model.forward_kld(x)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        sync(device)
        return loss

    if device.type == 'cuda':
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    step()
    first = time.perf_counter() - start
    for _ in range(a.warmup):
        step()
    times = []
    for _ in range(a.steps):
        start = time.perf_counter()
        loss = step()
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    return {
        'first_step_s': first,
        'step_s': {'median': median, 'min': min(times), 'max': max(times), 'n': a.steps},
        'images_per_s': batch / median,
        'peak_bytes': torch.cuda.max_memory_allocated() if device.type == 'cuda' else None,
        'params': sum(p.numel() for p in model.parameters()),
        'loss': loss.item(),
    }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--records', required=True, help='JSON-lines file to append one record per batch size to')
    p.add_argument('--batches', default='64,256,512')
    p.add_argument('--levels', type=int, default=3)
    p.add_argument('--flow-steps', type=int, default=32)
    p.add_argument('--hidden', type=int, default=512)
    p.add_argument('--permutation', choices=('conv1x1', 'lu'), default='conv1x1')
    p.add_argument('--logit', type=float, default=1e-6, help="alpha of normflows' Logit input layer (0: none)")
    p.add_argument('--steps', type=int, default=8)
    p.add_argument('--warmup', type=int, default=2)
    p.add_argument('--seed', type=int, default=0)
    a = p.parse_args(argv)
    device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    env = {
        'framework': 'normflows',
        'dtype': 'float32',
        'device': torch.cuda.get_device_name() if device.type == 'cuda' else 'cpu',
        'versions': {'torch': torch.__version__, 'normflows': getattr(nf, '__version__', '?')},
        'tf32': {'cudnn': torch.backends.cudnn.allow_tf32, 'matmul': torch.backends.cuda.matmul.allow_tf32},
        'threads': torch.get_num_threads(),
    }
    for batch in sorted(int(b) for b in a.batches.split(',')):
        record = {**env, 'batch': batch}
        try:
            record.update(measure(a, batch, device))
        except torch.cuda.OutOfMemoryError as e:  # larger batches would fail too
            record['error'] = f'out of memory: {str(e).splitlines()[0]}'
        with open(a.records, 'a') as f:
            f.write(json.dumps(record) + '\n')
        print(json.dumps(record), flush=True)
        if 'error' in record:
            break
        if device.type == 'cuda':
            torch.cuda.empty_cache()


if __name__ == '__main__':
    main()
