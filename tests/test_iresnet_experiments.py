"""The toy-density comparison (i-ResNet vs a coupling flow) writes its figure and numbers."""

import json

from experiments import toy_densities


def test_toy_densities_writes_png_and_log_likelihoods(tmp_path):
    results = toy_densities.run(str(tmp_path), densities=('eight_gaussians',), steps=2, batch_size=32, resolution=8)
    saved = json.loads((tmp_path / 'toy_densities.json').read_text())
    assert set(saved['results']['eight_gaussians']) == {'coupling flow', 'i-ResNet'}
    assert saved['results'] == json.loads(json.dumps(results))
    assert (tmp_path / 'toy_densities.png').stat().st_size > 0
    sizes = [r['params'] for r in results['eight_gaussians'].values()]
    assert max(sizes) < 1.1 * min(sizes)  # the two contenders are of about equal size
