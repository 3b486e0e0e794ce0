"""Build hooks for the docs site (mkdocs.yml `hooks:`).

- The math renderer is MathJax 3 from the `sphinx-mathjax-offline` package (a PyPI wheel that
  ships MathJax's files); its single-file SVG build is copied into the site, so pages render
  math with no network.
- Notebook pages (mkdocs-jupyter) carry nbconvert's CDN script tags (MathJax 2, mermaid);
  they are removed, and the site's own MathJax typesets the notebooks' markdown cells.
- After the build, any page that still loads a script, stylesheet or font from another host
  is a warning, so the strict build fails.
- Every public module, class, function and method of `zoo` must have a docstring: one
  without is a warning (ruff's D1 rules check the same on `ruff check`).
"""

import importlib.metadata
import logging
import re
import shutil
from pathlib import Path

log = logging.getLogger('mkdocs.plugins.zoo')

MATHJAX = 'static/mathjax/tex-svg.js'
EXTERNAL = re.compile(r'<(?:script|link)\b[^>]*\b(?:src|href)="(?:https?:)?//[^"]*"[^>]*>', re.I)
NBCONVERT_SCRIPTS = re.compile(
    r'<script\b[^>]*\bsrc="(?:https?://[^"]*)?"[^>]*>\s*</script>'  # MathJax 2 from a CDN, or an empty src
    r'|<script type="text/x-mathjax-config">.*?</script>'
    r'|<script type="module">(?:(?!</script>).)*?mermaid.*?</script>',  # imports mermaid from a CDN when needed
    re.I | re.S,
)
CDN = re.compile(r'https?://(?:cdnjs\.cloudflare\.com|cdn\.jsdelivr\.net|unpkg\.com|fonts\.googleapis\.com)[^"\'\s]*')


def _mathjax_file() -> Path:
    files = importlib.metadata.files('sphinx-mathjax-offline') or []
    for f in files:
        if str(f).endswith(MATHJAX):
            return Path(f.locate())
    raise FileNotFoundError('MathJax not found: install the docs extra (pip install -e ".[docs]")')


def _undocumented(obj, found: list) -> None:
    """Collects the public objects under ``obj`` (a griffe object) without a docstring."""
    for name, member in obj.members.items():
        if member.is_alias or name.startswith('_'):
            continue
        if member.is_module or member.is_class or member.is_function:
            if not member.docstring:
                found.append(member.path)
            if member.is_module or member.is_class:
                _undocumented(member, found)


def on_pre_build(config, **kwargs):
    """Fails (in strict mode) on a public object of ``zoo`` without a docstring."""
    import griffe

    package = griffe.load('zoo', search_paths=[str(Path(config['config_file_path']).parent)])
    found = [] if package.docstring else ['zoo']
    _undocumented(package, found)
    for path in found:
        log.warning('public object without a docstring: %s', path)


def on_post_page(output, page, config, **kwargs):
    """Drops the CDN scripts nbconvert puts into notebook pages."""
    if page.file.src_uri.endswith('.ipynb'):
        output = NBCONVERT_SCRIPTS.sub('', output)
    return output


def on_post_build(config, **kwargs):
    """Copies MathJax into the site and checks that no page loads anything from another host."""
    site = Path(config['site_dir'])
    target = site / 'assets' / 'mathjax' / 'tex-svg.js'
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_mathjax_file(), target)
    for html in sorted(site.rglob('*.html')):
        text = html.read_text(encoding='utf-8')
        for tag in EXTERNAL.findall(text) + CDN.findall(text):
            log.warning('%s loads from another host: %s', html.relative_to(site), tag[:160])
