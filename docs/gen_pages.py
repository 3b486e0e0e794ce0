"""Generates the API reference (one page per public module of ``zoo``), the notebook pages, and
the results and changelog pages from the repository's RESULTS.md and CHANGELOG.md.

Run by the mkdocs-gen-files plugin on every build, so a new module gets its page without
editing anything here; the navigation is written to SUMMARY.md for mkdocs-literate-nav.
"""

from pathlib import Path

import mkdocs_gen_files

ROOT = Path(__file__).resolve().parents[1]
nav = mkdocs_gen_files.Nav()

for path in sorted((ROOT / 'zoo').rglob('*.py')):
    parts = path.relative_to(ROOT).with_suffix('').parts
    if any(p.startswith('_') and p != '__init__' for p in parts):
        continue  # private modules and __main__
    if parts[-1] == '__init__':
        parts = parts[:-1]
    if path.name == '__init__.py':
        doc = Path('reference', *parts, 'index.md')
    else:
        doc = Path('reference', *parts[:-1], parts[-1] + '.md')
    nav[parts] = doc.relative_to('reference').as_posix()
    with mkdocs_gen_files.open(doc, 'w') as f:
        f.write(f'# `{".".join(parts)}`\n\n::: {".".join(parts)}\n')
        if path.name == '__init__.py':  # a package page: its docstring; the modules are their own pages
            f.write('    options:\n      members: false\n')
    mkdocs_gen_files.set_edit_path(doc, path.relative_to(ROOT))

with mkdocs_gen_files.open('reference/SUMMARY.md', 'w') as f:
    f.writelines(nav.build_literate_nav())

# RESULTS.md and CHANGELOG.md are pages under their own names, so the README's links to them
# (in the sections the pages include) resolve on the site too.
for name in ('RESULTS.md', 'CHANGELOG.md'):
    with mkdocs_gen_files.open(name, 'w') as f:
        f.write((ROOT / name).read_text())
    mkdocs_gen_files.set_edit_path(name, name)

for notebook in sorted((ROOT / 'notebooks').glob('*.ipynb')):
    with mkdocs_gen_files.open(f'notebooks/{notebook.name}', 'wb') as f:
        f.write(notebook.read_bytes())
