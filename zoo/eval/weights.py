"""FID Inception weights: convert pytorch-fid's state dict, find and load the converted file.

pytorch-fid publishes TensorFlow's 2015-12-05 Inception graph as a PyTorch state dict,
``pt_inception-2015-12-05-6726825d.pth``.  ``convert_state_dict`` maps it by name onto
``zoo.eval.inception.FIDInception``'s parameters: conv kernels OIHW -> HWIO, each batch
norm folded into a per-channel affine map

    scale = gamma / sqrt(running_var + 1e-3),   bias = beta - running_mean * scale,

and ``fc`` transposed.  The result is saved as an npz of '/'-joined parameter paths, the file
``load_params`` reads.  One-time conversion (torch needed only here, in any venv):

    python -m zoo.eval.weights convert pt_inception-2015-12-05-6726825d.pth

writes ``$ZOO_CACHE/fid/pt_inception-2015-12-05-6726825d.npz`` (``ZOO_CACHE`` defaults to
``~/.cache/zoo``); ``ZOO_FID_WEIGHTS`` may point at the npz anywhere else.  The converter
also reads an npz holding the state dict under its torch names (no torch needed).
"""

import argparse
import os

import jax
import numpy as np

from zoo.eval.inception import FIDInception

WEIGHTS_URL = (
    'https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth'
)
TORCH_FILE = 'pt_inception-2015-12-05-6726825d.pth'
ZOO_FILE = 'pt_inception-2015-12-05-6726825d.npz'
BN_EPS = 1e-3  # torchvision's BasicConv2d


class MissingWeights(FileNotFoundError):
    """The converted Inception weights are not where the loader looked."""


def default_path() -> str:
    """``$ZOO_FID_WEIGHTS``, else ``$ZOO_CACHE/fid/<ZOO_FILE>`` (``ZOO_CACHE`` defaults to ~/.cache/zoo)."""
    if os.environ.get('ZOO_FID_WEIGHTS'):
        return os.environ['ZOO_FID_WEIGHTS']
    cache = os.environ.get('ZOO_CACHE') or os.path.join(os.path.expanduser('~'), '.cache', 'zoo')
    return os.path.join(cache, 'fid', ZOO_FILE)


def missing_message(path: str) -> str:
    """The one-line error for weights absent at ``path``: where to download them and how to convert them."""
    return (
        f'FID Inception weights not found at {path}: download {TORCH_FILE} ({WEIGHTS_URL}) and run '
        f'`python -m zoo.eval.weights convert {TORCH_FILE}` (needs torch once), or set ZOO_FID_WEIGHTS'
    )


def abstract_params() -> dict:
    """The port's parameter tree as shapes only (nothing is computed)."""
    model = FIDInception(resize=False)
    return jax.eval_shape(lambda: model.init(jax.random.key(0), np.zeros((1, 75, 75, 3), np.float32)))['params']


def _paths(tree, prefix=()):
    for key, value in tree.items():
        if isinstance(value, dict):
            yield from _paths(value, (*prefix, key))
        else:
            yield (*prefix, key), value


def torch_shapes() -> dict:
    """{torch state-dict name: shape} the converter expects (``num_batches_tracked`` aside)."""
    shapes = {}
    for path, leaf in _paths(abstract_params()):
        module, name = '.'.join(path[:-1]), path[-1]
        if module == 'fc':
            o_i = leaf.shape[::-1]
            shapes['fc.weight' if name == 'kernel' else 'fc.bias'] = o_i if name == 'kernel' else leaf.shape
        elif name == 'kernel':
            kh, kw, i, o = leaf.shape
            shapes[f'{module}.conv.weight'] = (o, i, kh, kw)
        elif name == 'scale':
            for stat in ('weight', 'bias', 'running_mean', 'running_var'):
                shapes[f'{module}.bn.{stat}'] = leaf.shape
    return shapes


def convert_state_dict(state_dict) -> dict:
    """{torch name: array} -> {'Mixed_5b/branch1x1/kernel': array, ...} for ``FIDInception``.

    Checks that every expected name is present with its shape; extra keys
    (``num_batches_tracked``) are ignored.
    """
    state = {k: np.asarray(v, np.float64) for k, v in state_dict.items() if not k.endswith('num_batches_tracked')}
    expected = torch_shapes()
    missing = sorted(set(expected) - set(state))
    if missing:
        raise ValueError(f'not a pytorch-fid Inception state dict: {len(missing)} names missing, e.g. {missing[0]}')
    wrong = [k for k in expected if tuple(state[k].shape) != tuple(expected[k])]
    if wrong:
        raise ValueError(f'{wrong[0]} has shape {state[wrong[0]].shape}, expected {expected[wrong[0]]}')
    flat = {'fc/kernel': state['fc.weight'].T, 'fc/bias': state['fc.bias']}
    for name in expected:
        if name.endswith('conv.weight'):
            module = name[: -len('.conv.weight')]
            prefix = module.replace('.', '/')
            scale = state[f'{module}.bn.weight'] / np.sqrt(state[f'{module}.bn.running_var'] + BN_EPS)
            flat[f'{prefix}/kernel'] = state[name].transpose(2, 3, 1, 0)
            flat[f'{prefix}/scale'] = scale
            flat[f'{prefix}/bias'] = state[f'{module}.bn.bias'] - state[f'{module}.bn.running_mean'] * scale
    return {k: v.astype(np.float32) for k, v in flat.items()}


def read_state_dict(path: str) -> dict:
    """A state dict from pytorch-fid's ``.pth`` (needs torch) or from an npz of torch-named arrays."""
    if path.endswith('.npz'):
        with np.load(path) as f:
            return dict(f)
    try:
        import torch
    except ImportError:
        raise SystemExit(f'error: reading {path} needs torch (pip install torch, in any venv, once)') from None
    return {k: v.detach().cpu().numpy() for k, v in torch.load(path, map_location='cpu', weights_only=True).items()}


def convert(source: str, out: str | None = None) -> str:
    """Convert a state dict file to the zoo's npz; returns the path written."""
    out = out or default_path()
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    np.savez(out, **convert_state_dict(read_state_dict(source)))
    return out


def unflatten(flat: dict) -> dict:
    """``{"a/b/c": array}`` -> ``{"a": {"b": {"c": array}}}``: the npz's flat keys back into a parameter tree."""
    tree = {}
    for key, value in flat.items():
        *parents, leaf = key.split('/')
        node = tree
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = value
    return tree


def load_params(path: str | None = None) -> dict:
    """The converted weights as ``FIDInception``'s ``params`` tree; ``MissingWeights`` names the fix."""
    path = path or default_path()
    if not os.path.exists(path):
        raise MissingWeights(missing_message(path))
    with np.load(path) as f:
        flat = dict(f)
    expected = {'/'.join(p): leaf.shape for p, leaf in _paths(abstract_params())}
    if set(flat) != set(expected) or any(flat[k].shape != expected[k] for k in expected):
        raise ValueError(f'{path} is not a converted FID Inception file: run `python -m zoo.eval.weights convert`')
    return unflatten(flat)


def main(argv=None):
    """The command line: ``python -m zoo.eval.weights convert SOURCE`` writes the npz the zoo loads."""
    parser = argparse.ArgumentParser(description='Convert pytorch-fid Inception weights for zoo.eval.')
    commands = parser.add_subparsers(dest='command', required=True)
    c = commands.add_parser('convert', help=f'{TORCH_FILE} (or an npz of its state dict) -> the zoo npz')
    c.add_argument('source')
    c.add_argument('--out', default=None, help=f'default: {default_path()}')
    args = parser.parse_args(argv)
    print(f'wrote {convert(args.source, args.out)}')


if __name__ == '__main__':
    main()
