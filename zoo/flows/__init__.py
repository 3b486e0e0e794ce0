"""Normalizing flows: invertible layers with exact log-dets, and the models built from them.

Every layer maps ``x -> (y, log_det)`` and, with ``inverse=True``, ``y -> (x, log_det)``
with the same parameters; ``log_det`` has one value per example and the inverse's is
the negative of the forward's.
"""

from zoo.flows.actnorm import ActNorm, actnorm_transform
from zoo.flows.chain import ScannedChain, run_chain
from zoo.flows.conv1x1 import Conv1x1, LUConv1x1, conv1x1_transform, lu_weight
from zoo.flows.coupling import (
    ChannelCoupling,
    MaskedCoupling,
    additive_transform,
    affine_transform,
    bounded_log_scale,
    channel_mask,
    checkerboard_mask,
    merge_channels,
    merge_interleaved,
    split_channels,
    split_interleaved,
)
from zoo.flows.dense import DenseFlow
from zoo.flows.glow import Glow, GlowStep
from zoo.flows.image_flow import ImageFlow
from zoo.flows.invertible_backprop import invertible_scan
from zoo.flows.logit import Logit, logit_transform
from zoo.flows.nice import NICE
from zoo.flows.permutation import Reverse, Shuffle, permute
from zoo.flows.realnvp import RealNVP
from zoo.flows.scaling import Scaling
from zoo.flows.split import LearnedPrior, Split, gaussian_standardize
from zoo.flows.squeeze import Squeeze, squeeze, unsqueeze
from zoo.flows.structured_conv1x1 import (
    ExpConv1x1,
    HouseholderConv1x1,
    RankOneExpConv1x1,
    exp_conv1x1_transform,
    householder_transform,
    rank_one_exp_transform,
)
