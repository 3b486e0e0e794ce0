"""A griffe extension for the API pages: the docstrings write their math in plain text.

Markdown would read ``f*`` (a conjugate), ``b*x`` or ``H/f*f`` as the start of emphasis,
so a ``*`` is escaped unless it is emphasis on words (``*not*``, ``**global**``) or sits in
a code span.  The docstrings stay plain text for ``help()`` and editors.
"""

import re

import griffe

CODE = re.compile(r'(``.*?``|`[^`]*`)', re.S)
EMPHASIS = re.compile(r'(?<![\w*])(\*{1,2})[A-Za-z][A-Za-z ,.\'-]*[A-Za-z]\1(?![\w*])')


def escape_stars(text: str) -> str:
    """``*`` -> ``\\*`` outside code spans and word emphasis."""
    parts = CODE.split(text)
    for i in range(0, len(parts), 2):  # even parts are outside code spans
        out, end = [], 0
        for m in EMPHASIS.finditer(parts[i]):
            out += [parts[i][end : m.start()].replace('*', '\\*'), m.group(0)]
            end = m.end()
        parts[i] = ''.join([*out, parts[i][end:].replace('*', '\\*')])
    return ''.join(parts)


class PlainMath(griffe.Extension):
    """Escapes the plain-text math's stars in every docstring griffe loads."""

    def on_instance(self, *, obj, **kwargs) -> None:
        """Rewrites ``obj``'s docstring in place."""
        if obj.docstring is not None:
            obj.docstring.value = escape_stars(obj.docstring.value)
