"""Write tests/eval/fid_fixture.npz: pytorch-fid's network on seeded random weights (run once, by hand).

Needs torch and pytorch-fid, which the zoo does not depend on; run it in a scratch venv
outside the project, from the repository root:

    python3 -m venv /tmp/fidtorch && /tmp/fidtorch/bin/pip install torch pytorch-fid numpy scipy
    /tmp/fidtorch/bin/python experiments/make_fid_fixture.py

It builds pytorch-fid's ``InceptionV3`` (the FIDInceptionA/C/E_1/E_2 network) with weights
drawn by ``zoo/eval/random_weights.py`` from SEED (loaded by path: this venv has no jax),
and stores only what the test cannot redraw: the expected outputs.

    names, shapes            the state dict's parameter names and shapes (the test checks the port's)
    images                   (2, 32, 32, 3) inputs in [0, 1]
    pool, logits, block0-2   InceptionV3 on them: resized to 299, 2048-d features, 1008 logits,
                             and the spatial means of the first three blocks' outputs
    resize_up, resize_down   F.interpolate(bilinear, align_corners=False) to 299 (every 7th
                             row and column kept) and to 13
    <Mixed_*>                each kind of Inception block on its own, on inputs the test redraws
                             with ``random_weights.block_input``
    fd_*                     random Gaussian statistics and pytorch-fid's calculate_frechet_distance
"""

import importlib.util
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

# A torchvision wheel built for another torch fails at import while registering its C++ ops
# (nms, roi_align: "operator torchvision::nms does not exist"); the Inception modules need none
# of them, so registration is skipped.
torch.library.register_fake = lambda *args, **kwargs: lambda function: function

from pytorch_fid import fid_score  # noqa: E402  (after the torchvision workaround above)
from pytorch_fid import inception as fid_inception  # noqa: E402

SEED = 20240
OUT = 'tests/eval/fid_fixture.npz'
# (module, input channels, spatial size): one block of each kind, small grids to keep the file small.
BLOCKS = (
    ('Mixed_5b', 192, 5),
    ('Mixed_6a', 288, 5),
    ('Mixed_6b', 768, 4),
    ('Mixed_7a', 768, 5),
    ('Mixed_7b', 1280, 3),
    ('Mixed_7c', 2048, 3),
)


def load_random_weights():
    path = os.path.join(os.path.dirname(__file__), '..', 'zoo', 'eval', 'random_weights.py')
    spec = importlib.util.spec_from_file_location('random_weights', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def nchw(x):
    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))


def nhwc(t):
    return t.detach().numpy().transpose(0, 2, 3, 1)


def main():
    torch.set_num_threads(2)
    random_weights = load_random_weights()
    # pytorch-fid builds its network from torchvision's Inception3 and then loads the published
    # weights; hand it the random state dict instead of downloading.
    skeleton = fid_inception._inception_v3(num_classes=1008, aux_logits=False, weights=None)
    for name, block in (
        ('Mixed_5b', fid_inception.FIDInceptionA(192, pool_features=32)),
        ('Mixed_5c', fid_inception.FIDInceptionA(256, pool_features=64)),
        ('Mixed_5d', fid_inception.FIDInceptionA(288, pool_features=64)),
        ('Mixed_6b', fid_inception.FIDInceptionC(768, channels_7x7=128)),
        ('Mixed_6c', fid_inception.FIDInceptionC(768, channels_7x7=160)),
        ('Mixed_6d', fid_inception.FIDInceptionC(768, channels_7x7=160)),
        ('Mixed_6e', fid_inception.FIDInceptionC(768, channels_7x7=192)),
        ('Mixed_7b', fid_inception.FIDInceptionE_1(1280)),
        ('Mixed_7c', fid_inception.FIDInceptionE_2(2048)),
    ):
        setattr(skeleton, name, block)
    full = skeleton.state_dict()
    shapes = {k: tuple(v.shape) for k, v in full.items() if not k.endswith('num_batches_tracked')}
    state = {k: torch.from_numpy(v) for k, v in random_weights.random_state_dict(shapes, SEED).items()}
    state.update({k: v for k, v in full.items() if k.endswith('num_batches_tracked')})
    fid_inception.load_state_dict_from_url = lambda *args, **kwargs: state
    model = fid_inception.InceptionV3(output_blocks=(0, 1, 2, 3)).eval()
    network = fid_inception.fid_inception_v3().eval()  # the same weights, for the blocks and fc

    rng = np.random.default_rng(SEED)
    images = rng.uniform(0, 1, (2, 32, 32, 3)).astype(np.float32)
    out = {'seed': np.int64(SEED), 'names': np.array(list(shapes)), 'images': images}
    out['shapes'] = np.array([','.join(map(str, s)) for s in shapes.values()])
    with torch.no_grad():
        blocks = model(nchw(images))
        for i in range(3):
            out[f'block{i}'] = blocks[i].mean(dim=(2, 3)).numpy()
        out['pool'] = blocks[3][:, :, 0, 0].numpy()
        out['logits'] = network.fc(blocks[3][:, :, 0, 0]).numpy()
        up = F.interpolate(nchw(images), size=(299, 299), mode='bilinear', align_corners=False)
        out['resize_up'] = nhwc(up)[:, ::7, ::7]
        out['resize_down'] = nhwc(F.interpolate(nchw(images), size=(13, 13), mode='bilinear', align_corners=False))
        for name, channels, size in BLOCKS:
            x = random_weights.block_input(SEED, name, (1, size, size, channels))
            out[name] = nhwc(getattr(network, name)(nchw(x)))

    d = 24
    for tag in ('a', 'b'):
        features = rng.normal(0, 1, (200, d)) @ rng.normal(0, 0.5, (d, d)) + rng.normal(0, 1, d)
        out[f'fd_mu_{tag}'], out[f'fd_sigma_{tag}'] = features.mean(0), np.cov(features, rowvar=False)
    out['fd_value'] = np.float64(
        fid_score.calculate_frechet_distance(out['fd_mu_a'], out['fd_sigma_a'], out['fd_mu_b'], out['fd_sigma_b'])
    )
    np.savez_compressed(OUT, **out)
    print(f'wrote {OUT}: {os.path.getsize(OUT) / 1e3:.0f} kB; pool features |x| ~ {np.abs(out["pool"]).mean():.3g}')


if __name__ == '__main__':
    sys.exit(main())
