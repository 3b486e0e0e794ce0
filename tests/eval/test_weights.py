"""Converter and loader: a state dict file becomes weights the feature network runs with."""

import os

import numpy as np
import pytest

from zoo.eval import features, random_weights, weights

FIXTURE = os.path.join(os.path.dirname(__file__), 'fid_fixture.npz')


def write_random_state_dict(path, seed=0):
    state = random_weights.random_state_dict(weights.torch_shapes(), seed)
    state['Conv2d_1a_3x3.bn.num_batches_tracked'] = np.zeros((), np.int64)  # as torch saves it
    np.savez(path, **state)
    return state


def test_convert_command_writes_what_the_loader_reads(tmp_path, capsys):
    state = write_random_state_dict(tmp_path / 'state.npz')
    out = tmp_path / 'fid.npz'
    weights.main(['convert', str(tmp_path / 'state.npz'), '--out', str(out)])
    assert str(out) in capsys.readouterr().out
    params = weights.load_params(str(out))
    # The batch norm folds into scale = gamma / sqrt(var + 1e-3) and bias = beta - mean * scale.
    scale = state['Mixed_6e.branch_pool.bn.weight'] / np.sqrt(state['Mixed_6e.branch_pool.bn.running_var'] + 1e-3)
    np.testing.assert_allclose(params['Mixed_6e']['branch_pool']['scale'], scale, rtol=1e-6)
    np.testing.assert_array_equal(
        params['Conv2d_2a_3x3']['kernel'], state['Conv2d_2a_3x3.conv.weight'].transpose(2, 3, 1, 0)
    )
    np.testing.assert_array_equal(params['fc']['kernel'], state['fc.weight'].T)


def test_torch_pth_converts_like_the_npz(tmp_path):
    torch = pytest.importorskip('torch')
    state = write_random_state_dict(tmp_path / 'state.npz', seed=1)
    torch.save({k: torch.from_numpy(np.asarray(v)) for k, v in state.items()}, tmp_path / 'state.pth')
    a = weights.convert_state_dict(weights.read_state_dict(str(tmp_path / 'state.pth')))
    b = weights.convert_state_dict(weights.read_state_dict(str(tmp_path / 'state.npz')))
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def test_converter_rejects_another_network():
    state = random_weights.random_state_dict(weights.torch_shapes(), 0)
    del state['Mixed_7c.branch_pool.conv.weight']
    with pytest.raises(ValueError, match='names missing, e.g. Mixed_7c.branch_pool.conv.weight'):
        weights.convert_state_dict(state)


def test_missing_weights_name_the_file_and_the_command(tmp_path, monkeypatch):
    monkeypatch.delenv('ZOO_FID_WEIGHTS', raising=False)
    monkeypatch.setenv('ZOO_CACHE', str(tmp_path))
    with pytest.raises(weights.MissingWeights) as error:
        weights.load_params()
    message = str(error.value)
    assert str(tmp_path / 'fid' / weights.ZOO_FILE) in message
    assert 'pt_inception-2015-12-05-6726825d.pth' in message and 'python -m zoo.eval.weights convert' in message


def test_loaded_network_on_the_mesh_gives_pytorch_fids_features(tmp_path, monkeypatch):
    """The whole user path on the fixture's random weights: npz -> convert -> load -> jitted, sharded features."""
    with np.load(FIXTURE) as f:
        fixture = dict(f)
    shapes = {name: tuple(map(int, s.split(','))) for name, s in zip(fixture['names'], fixture['shapes'])}
    np.savez(tmp_path / 'state.npz', **random_weights.random_state_dict(shapes, int(fixture['seed'])))
    monkeypatch.setenv('ZOO_FID_WEIGHTS', str(tmp_path / 'fid.npz'))
    weights.main(['convert', str(tmp_path / 'state.npz')])
    network = features.InceptionFeatures.from_file(batch_size=3)  # pads the 2 images to a batch of 3
    out = network(fixture['images'] * 255.0, num_levels=256)
    scale = np.max(np.abs(fixture['pool']))
    assert out['features'].shape == (2, 2048)
    assert np.max(np.abs(out['features'] - fixture['pool'])) < 1e-4 * scale
    logits = fixture['logits'] - fixture['logits'].max(1, keepdims=True)
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    np.testing.assert_allclose(out['probs'], probs, rtol=1e-3, atol=1e-7)
