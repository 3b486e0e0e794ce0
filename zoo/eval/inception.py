"""The Inception-v3 variant that defines FID, in Flax (Heusel et al. 2017, "GANs trained by a two
time-scale update rule converge to a local Nash equilibrium", sec. 3; the network is TensorFlow's
2015-12-05 Inception graph as ported to PyTorch by pytorch-fid).

It is Szegedy et al. 2016 ("Rethinking the Inception architecture", fig. 5-7) with the
quirks of that graph, which FID numbers depend on:

* the average pools inside the A, C and first E blocks ignore the zero padding
  (``count_include_pad=False``), and the last E block max-pools instead;
* every convolution is conv (no bias) -> batch norm (eps 1e-3, inference statistics) -> ReLU;
* inputs in [0, 1] are resized bilinearly to 299x299 (``zoo.eval.resize``) and scaled to [-1, 1];
* the 2048-d features are the global average pool after ``Mixed_7c``; the logits of the
  1008-way classifier ``fc`` (for the Inception Score) are a linear map of them.

Module and parameter names follow the PyTorch state dict (``Mixed_6b.branch7x7_2.conv.weight``
becomes ``params['Mixed_6b']['branch7x7_2']['kernel']``), so that ``zoo.eval.weights`` converts
by name.  Batch norm is folded into a per-channel ``scale`` and ``bias`` at conversion.
Layout is NHWC.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp

from zoo.eval.resize import resize_bilinear

INPUT_SIZE = 299
FEATURE_DIM = 2048
NUM_CLASSES = 1008


def _pads(padding):
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    return ((ph, ph), (pw, pw))


class BasicConv(nn.Module):
    """relu(conv(x, kernel) * scale + bias): torchvision's BasicConv2d with its batch norm folded."""

    features: int
    kernel_size: tuple[int, int]
    stride: int = 1
    padding: int | tuple[int, int] = 0

    @nn.compact
    def __call__(self, x):
        """relu(batchnorm(conv(x))) with the batch-norm folded into a per-channel scale and bias (inference)."""
        kernel = self.param('kernel', nn.initializers.lecun_normal(), (*self.kernel_size, x.shape[-1], self.features))
        scale = self.param('scale', nn.initializers.ones, (self.features,))
        bias = self.param('bias', nn.initializers.zeros, (self.features,))
        y = jax.lax.conv_general_dilated(
            x,
            kernel,
            (self.stride, self.stride),
            _pads(self.padding),
            dimension_numbers=('NHWC', 'HWIO', 'NHWC'),
            precision='highest',
        )
        return nn.relu(y * scale + bias)


def max_pool(x, window: int = 3, stride: int = 2, padding: int = 0):
    """Max over window x window patches; padding counts as -inf (PyTorch's ``max_pool2d``)."""
    return nn.max_pool(x, (window, window), (stride, stride), _pads(padding))


def avg_pool_exclude_pad(x):
    """3x3 mean with stride 1 and padding 1 that averages only the real pixels (TensorFlow's
    average pool, PyTorch's ``count_include_pad=False``): border means divide by 4 or 6, not 9."""
    return nn.avg_pool(x, (3, 3), (1, 1), _pads(1), count_include_pad=False)


class InceptionA(nn.Module):
    """Mixed_5b/c/d: 1x1 | 1x1 -> 5x5 | 1x1 -> 3x3 -> 3x3 | avg pool -> 1x1."""

    pool_features: int

    @nn.compact
    def __call__(self, x):
        """The branches of the class docstring, concatenated along channels."""
        b1 = BasicConv(64, (1, 1), name='branch1x1')(x)
        b5 = BasicConv(48, (1, 1), name='branch5x5_1')(x)
        b5 = BasicConv(64, (5, 5), padding=2, name='branch5x5_2')(b5)
        b3 = BasicConv(64, (1, 1), name='branch3x3dbl_1')(x)
        b3 = BasicConv(96, (3, 3), padding=1, name='branch3x3dbl_2')(b3)
        b3 = BasicConv(96, (3, 3), padding=1, name='branch3x3dbl_3')(b3)
        bp = BasicConv(self.pool_features, (1, 1), name='branch_pool')(avg_pool_exclude_pad(x))
        return jnp.concatenate([b1, b5, b3, bp], -1)


class InceptionB(nn.Module):
    """Mixed_6a, grid 35 -> 17: 3x3/2 | 1x1 -> 3x3 -> 3x3/2 | max pool/2."""

    @nn.compact
    def __call__(self, x):
        """The grid reduction 35 -> 17: a stride-2 3x3, a double 3x3 and a max-pool, concatenated."""
        b3 = BasicConv(384, (3, 3), stride=2, name='branch3x3')(x)
        bd = BasicConv(64, (1, 1), name='branch3x3dbl_1')(x)
        bd = BasicConv(96, (3, 3), padding=1, name='branch3x3dbl_2')(bd)
        bd = BasicConv(96, (3, 3), stride=2, name='branch3x3dbl_3')(bd)
        return jnp.concatenate([b3, bd, max_pool(x)], -1)


class InceptionC(nn.Module):
    """Mixed_6b-e: factorised 7x7 convolutions (1x7 then 7x1) in two branches, and an avg pool branch."""

    channels_7x7: int

    @nn.compact
    def __call__(self, x):
        """The branches of the class docstring (7x7 factorised into 1x7 and 7x1 convs), concatenated."""
        c = self.channels_7x7
        b1 = BasicConv(192, (1, 1), name='branch1x1')(x)
        b7 = BasicConv(c, (1, 1), name='branch7x7_1')(x)
        b7 = BasicConv(c, (1, 7), padding=(0, 3), name='branch7x7_2')(b7)
        b7 = BasicConv(192, (7, 1), padding=(3, 0), name='branch7x7_3')(b7)
        bd = BasicConv(c, (1, 1), name='branch7x7dbl_1')(x)
        bd = BasicConv(c, (7, 1), padding=(3, 0), name='branch7x7dbl_2')(bd)
        bd = BasicConv(c, (1, 7), padding=(0, 3), name='branch7x7dbl_3')(bd)
        bd = BasicConv(c, (7, 1), padding=(3, 0), name='branch7x7dbl_4')(bd)
        bd = BasicConv(192, (1, 7), padding=(0, 3), name='branch7x7dbl_5')(bd)
        bp = BasicConv(192, (1, 1), name='branch_pool')(avg_pool_exclude_pad(x))
        return jnp.concatenate([b1, b7, bd, bp], -1)


class InceptionD(nn.Module):
    """Mixed_7a, grid 17 -> 8: 1x1 -> 3x3/2 | 1x1 -> 1x7 -> 7x1 -> 3x3/2 | max pool/2."""

    @nn.compact
    def __call__(self, x):
        """The grid reduction 17 -> 8: stride-2 3x3 and 7x7x3 branches and a max-pool, concatenated."""
        b3 = BasicConv(192, (1, 1), name='branch3x3_1')(x)
        b3 = BasicConv(320, (3, 3), stride=2, name='branch3x3_2')(b3)
        b7 = BasicConv(192, (1, 1), name='branch7x7x3_1')(x)
        b7 = BasicConv(192, (1, 7), padding=(0, 3), name='branch7x7x3_2')(b7)
        b7 = BasicConv(192, (7, 1), padding=(3, 0), name='branch7x7x3_3')(b7)
        b7 = BasicConv(192, (3, 3), stride=2, name='branch7x7x3_4')(b7)
        return jnp.concatenate([b3, b7, max_pool(x)], -1)


class InceptionE(nn.Module):
    """Mixed_7b/c: expanded 1x3 | 3x1 outputs; ``pool='avg'`` for Mixed_7b, ``'max'`` for Mixed_7c
    (the FID graph's max pool there, pytorch-fid's ``FIDInceptionE_2``)."""

    pool: str

    @nn.compact
    def __call__(self, x):
        """The branches of the class docstring (split 1x3 / 3x1 outputs), concatenated along channels."""
        b1 = BasicConv(320, (1, 1), name='branch1x1')(x)
        b3 = BasicConv(384, (1, 1), name='branch3x3_1')(x)
        b3 = jnp.concatenate(
            [
                BasicConv(384, (1, 3), padding=(0, 1), name='branch3x3_2a')(b3),
                BasicConv(384, (3, 1), padding=(1, 0), name='branch3x3_2b')(b3),
            ],
            -1,
        )
        bd = BasicConv(448, (1, 1), name='branch3x3dbl_1')(x)
        bd = BasicConv(384, (3, 3), padding=1, name='branch3x3dbl_2')(bd)
        bd = jnp.concatenate(
            [
                BasicConv(384, (1, 3), padding=(0, 1), name='branch3x3dbl_3a')(bd),
                BasicConv(384, (3, 1), padding=(1, 0), name='branch3x3dbl_3b')(bd),
            ],
            -1,
        )
        pooled = avg_pool_exclude_pad(x) if self.pool == 'avg' else max_pool(x, stride=1, padding=1)
        bp = BasicConv(192, (1, 1), name='branch_pool')(pooled)
        return jnp.concatenate([b1, b3, bd, bp], -1)


class FIDInception(nn.Module):
    """images in [0, 1], float (N, H, W, 3) -> {'block0'..'block3', 'pool', 'logits'}.

    ``block0``..``block2`` are pytorch-fid's intermediate outputs (after the first and second
    max pools and after Mixed_6e), ``pool`` the (N, 2048) FID features, ``logits`` the
    (N, 1008) classifier output for the Inception Score.  ``resize=False`` skips the resize
    to 299 (the network is fully convolutional; the tests use small inputs).
    """

    resize: bool = True

    @nn.compact
    def __call__(self, images):
        """Images in [0, 1], NHWC -> ``{block0, block1, block2, pool (N, 2048), logits (N, 1008)}``."""
        x = images.astype(jnp.float32)
        if self.resize:
            x = resize_bilinear(x, (INPUT_SIZE, INPUT_SIZE))
        x = 2.0 * x - 1.0
        out = {}
        x = BasicConv(32, (3, 3), stride=2, name='Conv2d_1a_3x3')(x)
        x = BasicConv(32, (3, 3), name='Conv2d_2a_3x3')(x)
        x = BasicConv(64, (3, 3), padding=1, name='Conv2d_2b_3x3')(x)
        out['block0'] = x = max_pool(x)
        x = BasicConv(80, (1, 1), name='Conv2d_3b_1x1')(x)
        x = BasicConv(192, (3, 3), name='Conv2d_4a_3x3')(x)
        out['block1'] = x = max_pool(x)
        x = InceptionA(32, name='Mixed_5b')(x)
        x = InceptionA(64, name='Mixed_5c')(x)
        x = InceptionA(64, name='Mixed_5d')(x)
        x = InceptionB(name='Mixed_6a')(x)
        for name, channels in (('Mixed_6b', 128), ('Mixed_6c', 160), ('Mixed_6d', 160), ('Mixed_6e', 192)):
            x = InceptionC(channels, name=name)(x)
        out['block2'] = x
        x = InceptionD(name='Mixed_7a')(x)
        x = InceptionE('avg', name='Mixed_7b')(x)
        x = InceptionE('max', name='Mixed_7c')(x)
        out['pool'] = x = jnp.mean(x, axis=(1, 2))
        out['logits'] = nn.Dense(NUM_CLASSES, precision='highest', name='fc')(x)
        return out
