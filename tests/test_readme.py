"""The README and the docs pages run as written: every ```python block, each in its own namespace."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / 'README.md', *sorted((ROOT / 'docs').rglob('*.md'))]
BLOCKS = [
    (page.relative_to(ROOT), block)
    for page in PAGES
    for block in re.findall(r'^```python\n(.*?)^```', page.read_text(), flags=re.M | re.S)
]


def test_the_readme_has_python_blocks():
    assert len(BLOCKS) >= 3


@pytest.mark.slow
@pytest.mark.parametrize('index', range(len(BLOCKS)))
def test_python_block_runs(index, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a block that writes files writes them here
    page, block = BLOCKS[index]
    exec(compile(block, f'{page} block {index}', 'exec'), {'__name__': f'readme_block_{index}'})
