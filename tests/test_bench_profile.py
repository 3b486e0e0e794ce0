"""The step profile: op_names map to the model part they came from, and a traced tiny step
puts its time on the coupling layers of the level it has, forward and backward."""

import pytest

from experiments import bench, bench_profile

LEVEL = 'jvp(Glow.bits_per_dim)/Glow.log_prob/Glow/Glow.forward/Glow._level/flows_1/flows_1._unrolled/GlowStep'


@pytest.mark.parametrize(
    'op_name, part',
    [
        (LEVEL + '/layers_2/ConvNet_0/Conv_1/dot_general', 'L1 coupling conv 1x1'),
        (LEVEL + '/layers_2/ConvNet_0/ZeroConv_0/conv/jit(_pad)/pad', 'L1 coupling zero conv 3x3 out'),
        (LEVEL + '/layers_2/mul', 'L1 coupling elementwise'),
        (LEVEL + '/layers_0/add', 'L1 actnorm'),
        (LEVEL + '/layers_1/dot_general', 'L1 1x1 conv'),
        (
            'jvp(Glow.bits_per_dim)/Glow.log_prob/Glow/Glow.forward/splits_0/ZeroConv_0/conv/dot_general',
            'L0 split prior',
        ),
        ('transpose(jvp(Glow.bits_per_dim))/Glow.log_prob/Glow/Glow.forward/top/mul', 'top prior'),
        ('reduce_sum', 'optimizer and bookkeeping'),
        ('', 'inserted by XLA (layout copies and transposes)'),
    ],
)
def test_op_names_map_to_model_parts(op_name, part):
    assert bench_profile.part_of(op_name) == part


def test_profile_of_a_tiny_step_names_coupling_time_both_ways():
    settings = bench.Settings(
        batch=2, repeats=2, warmup=1, model=dict(scales=1, flow_steps=2, hidden=4), sections=('profile',)
    )
    profile = bench.run_bench(settings)['profile']
    seen = {(r['part'], r['direction']) for r in profile['rows']}
    assert {('L0 coupling conv 1x1', 'forward'), ('L0 coupling conv 1x1', 'backward')} <= seen
    assert profile['total_ms'] > 0 and all(r['ms'] > 0 for r in profile['rows'])
    assert "## Where the train step's time goes" in bench_profile.table(profile)
