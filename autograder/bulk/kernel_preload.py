"""Which modules the kernel zygote imports ahead of time: the ones the assignment imports.

Read from the instructor's source notebooks (solution and test cells alike), so a course
changes what is preloaded by changing its notebook, not a setting. Preloading is invisible to
the student's code: the import statement still runs, it just finds the module loaded (and the
zygote refuses modules that print when imported, see :mod:`autograder.bulk.zygote`).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

import nbformat


def _python_lines(source: str) -> str:
    """Cell source without IPython-only lines (magics, shell escapes, help), which ``ast`` rejects."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) or line.rstrip().endswith("?") else line
                     for line in source.splitlines())


def imported_modules(notebooks: Iterable[Path]) -> tuple[str, ...]:
    """Absolute module names imported by the code cells, in order of first appearance."""
    names: dict[str, None] = {}
    for path in notebooks:
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type != "code":
                continue
            try:
                tree = ast.parse(_python_lines(cell.source))
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names.update(dict.fromkeys(alias.name for alias in node.names))
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names[node.module] = None
    return tuple(names)
