"""What a saved notebook's state says about how it was run, without running it.

A student sees the outputs of *their* session: cells run in any order, a cell run before the
one it needs, a value left in memory by a cell since deleted. Grading starts a fresh kernel and
runs the cells top to bottom, so such a notebook can show eight ✔ and still score zero. The
saved file tells much of this statically:

* ``execution_count`` that does not increase down the notebook: cells were run out of order;
* a code cell with no ``execution_count`` while others have one: it was never run (the label
  cell is named: skipping it leaves the labels as strings, and ``fit`` then fails);
* a name that a cell reads but no cell defines: it came from a deleted cell (or a typo);
* a name read above the only cell that defines it: top to bottom, it is not defined yet;
* a test cell or the label cell missing, or test cells moved: grading puts the release's back
  in the release's order, so the answer must work with them there.

Only ``nbformat``-shaped dicts and the standard library are used here (IPython, if present, to
turn ``%magic`` lines into Python), so the student's install needs nothing more.
"""

from __future__ import annotations

import ast
import builtins
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import messages
from .spec import CHECK_POINTS, SOLUTION_CELLS

# The release's given cell that turns the string labels into integers (its nbgrader grade_id).
# It is the one students skip most often, and skipping it has a cause worth naming.
LABELS_CELL = "labels"
# Names an IPython kernel defines in every session.
_IPYTHON_NAMES = {"get_ipython", "display", "In", "Out", "exit", "quit", "_", "__", "___",
                  "_i", "_ii", "_iii", "_ih", "_oh", "_dh"}
_HISTORY_NAME = re.compile(r"_i?\d+$")  # _5, _i5: IPython's numbered history
# With these, names appear without an assignment the parser can see; the name checks are skipped.
_DYNAMIC_MAGICS = {"run", "store", "load", "autoreload"}
_DYNAMIC_CALLS = {"exec", "eval", "execfile", "__import__"}


@dataclass(frozen=True)
class Finding:
    """One way the saved notebook differs from what grading will run: a catalogue key and its fields."""

    key: str
    fields: dict[str, object] = field(default_factory=dict)

    def text(self, lang: str | None = None) -> str:
        return messages.text(f"student_check.{self.key}", lang, **self.fields)


def _grade_id(cell: Mapping[str, Any]) -> str | None:
    grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
    return grade_id if isinstance(grade_id, str) else None


def _source(cell: Mapping[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def cell_label(cell: Mapping[str, Any], position: int, lang: str | None = None) -> str:
    """How a student finds a cell: its practice's name, or its number and first line."""
    grade_id = _grade_id(cell)
    if grade_id in SOLUTION_CELLS:
        return messages.text(f"cell.{grade_id}", lang)
    if grade_id in CHECK_POINTS:
        return messages.title(grade_id, lang)
    if grade_id == LABELS_CELL:
        return messages.text("student_check.labels_cell", lang)
    first = next((ln.strip() for ln in _source(cell).splitlines() if ln.strip()), "")
    if len(first) > 40:
        first = first[:37] + "..."
    return messages.text("student_check.cell", lang, number=position + 1, first=first)


def _python(source: str) -> ast.Module | None:
    """The cell as Python (IPython's ``%magic`` and ``!shell`` lines translated), or None."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
        source = TransformerManager().transform_cell(source)
    except Exception:  # noqa: BLE001 - without IPython, or on input it cannot transform
        pass
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError):
        return None


class _Names(ast.NodeVisitor):
    """Names a cell binds and names it reads at once.

    Bindings are over-approximated (a comprehension's variable counts as bound in the whole
    cell, order inside a cell is ignored) so that ordinary code raises no false alarm. Function
    and lambda bodies run later, when called: their reads are not counted, and their bindings
    only when declared ``global``. Class bodies, comprehensions and default values run at once.
    """

    def __init__(self) -> None:
        self.bound: set[str] = set()
        self.read: list[str] = []
        self.dynamic = False

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            self.read.append(node.id)
        else:
            self.bound.add(node.id)

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        if not isinstance(node, ast.Lambda):
            self.bound.add(node.name)
            for decorator in node.decorator_list:
                self.visit(decorator)
        for default in [*node.args.defaults, *node.args.kw_defaults]:
            if default is not None:
                self.visit(default)
        body = node.body if isinstance(node.body, list) else [node.body]
        inner = _Names()
        for statement in body:
            inner.visit(statement)
        self.bound |= {n for n in inner.bound if self._declared_global(node, n)}
        self.dynamic |= inner.dynamic

    @staticmethod
    def _declared_global(node: ast.AST, name: str) -> bool:
        return any(isinstance(n, ast.Global) and name in n.names for n in ast.walk(node))

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.name:
            self.bound.add(node.name)
        self.generic_visit(node)

    def visit_MatchAs(self, node: ast.MatchAs | ast.MatchStar) -> None:
        if node.name:
            self.bound.add(node.name)
        self.generic_visit(node)

    visit_MatchStar = visit_MatchAs

    def visit_MatchMapping(self, node: ast.MatchMapping) -> None:
        if node.rest:
            self.bound.add(node.rest)
        self.generic_visit(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.bound.add(node.name)
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import | ast.ImportFrom) -> None:
        for alias in node.names:
            if alias.name == "*":
                self.dynamic = True
            else:
                self.bound.add(alias.asname or alias.name.split(".")[0])

    visit_ImportFrom = visit_Import

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name) and func.id in _DYNAMIC_CALLS:
            self.dynamic = True
        if (isinstance(func, ast.Attribute) and func.attr in {"run_line_magic", "run_cell_magic"} and node.args
                and isinstance(node.args[0], ast.Constant) and node.args[0].value in _DYNAMIC_MAGICS):
            self.dynamic = True
        if isinstance(func, ast.Attribute) and _is_globals_call(func.value):  # globals().update(...)
            self.dynamic = True
        self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if not isinstance(node.ctx, ast.Load) and _is_globals_call(node.value):  # globals()["x"] = ...
            self.dynamic = True
        self.generic_visit(node)


def _is_globals_call(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in {"globals", "vars"}


def _is_known(name: str) -> bool:
    return hasattr(builtins, name) or name in _IPYTHON_NAMES or bool(_HISTORY_NAME.match(name))


_MAX_ORDER_FINDINGS = 3  # re-running one cell puts every later cell out of order: name the first few


def _order(cells: list[tuple[int, Mapping[str, Any]]], lang: str | None) -> Iterator[Finding]:
    by_position = dict(cells)
    ran = any(isinstance(c.get("execution_count"), int) for _, c in cells)
    latest: tuple[int, int] | None = None  # (execution_count, position) of the latest-run cell so far
    out_of_order = 0
    for position, cell in cells:
        count = cell.get("execution_count")
        label = cell_label(cell, position, lang)
        if not isinstance(count, int):
            if ran and _source(cell).strip():
                yield Finding("labels_not_run" if _grade_id(cell) == LABELS_CELL else "never_run", {"cell": label})
            continue
        if latest is not None and count <= latest[0]:
            out_of_order += 1
            fields = {"cell": label, "count": count, "above": cell_label(by_position[latest[1]], latest[1], lang),
                      "above_count": latest[0]}
            if _grade_id(cell) == LABELS_CELL:
                yield Finding("labels_out_of_order", fields)
            elif _grade_id(by_position[latest[1]]) == LABELS_CELL:
                yield Finding("ran_before_labels", fields)
            elif out_of_order <= _MAX_ORDER_FINDINGS:
                yield Finding("out_of_order", fields)
        else:
            latest = (count, position)
    if out_of_order > _MAX_ORDER_FINDINGS:
        yield Finding("more_out_of_order", {"count": out_of_order - _MAX_ORDER_FINDINGS})


def _names(cells: list[tuple[int, Mapping[str, Any]]], lang: str | None) -> Iterator[Finding]:
    scanned = []
    for position, cell in cells:
        tree = _python(_source(cell))
        names = _Names()
        if tree is not None:
            names.visit(tree)
        scanned.append((position, cell, names))
    if any(names.dynamic for _, _, names in scanned):
        return
    bound_anywhere = set().union(*(names.bound for _, _, names in scanned))
    bound_above: set[str] = set()
    reported: set[str] = set()
    for position, cell, names in scanned:
        for name in names.read:
            if name in reported or name in bound_above or name in names.bound or _is_known(name):
                continue
            reported.add(name)
            where = cell_label(cell, position, lang)
            if name in bound_anywhere:
                below = next(p for p, c, n in scanned if name in n.bound and p > position)
                yield Finding("defined_below", {"name": name, "cell": where,
                                                "below": cell_label(dict(cells)[below], below, lang)})
            else:
                yield Finding("undefined", {"name": name, "cell": where})
        bound_above |= names.bound


def _missing(notebook: Mapping[str, Any]) -> Iterator[Finding]:
    """Test cells and the label cell that were deleted or moved (grading restores the release's).

    A deleted answer cell is not reported: grading keeps the cells a student added, so an answer
    written elsewhere still runs.
    """
    present = {_grade_id(c) for c in notebook.get("cells", [])}
    for check_id in CHECK_POINTS:
        if check_id not in present:
            yield Finding("missing", {"cell": messages.title(check_id)})
    if LABELS_CELL not in present:
        yield Finding("labels_missing")
    order = [g for g in (_grade_id(c) for c in notebook.get("cells", [])) if g in CHECK_POINTS]
    if order != [c for c in CHECK_POINTS if c in order]:
        yield Finding("checks_moved")


def _syntax(cells: list[tuple[int, Mapping[str, Any]]], lang: str | None) -> Iterator[Finding]:
    for position, cell in cells:
        if _source(cell).strip() and _python(_source(cell)) is None:
            yield Finding("syntax_error", {"cell": cell_label(cell, position, lang)})


def findings(notebook: Mapping[str, Any], lang: str | None = None) -> list[Finding]:
    """Every way the saved ``notebook`` (an nbformat-4 dict) differs from a top-to-bottom run."""
    cells = [(i, c) for i, c in enumerate(notebook.get("cells", [])) if c.get("cell_type") == "code"]
    ran_at_all = any(isinstance(c.get("execution_count"), int) for _, c in cells)
    out = [*_missing(notebook), *_syntax(cells, lang)]
    if not ran_at_all:
        out.append(Finding("not_run"))
    out += [*_order(cells, lang), *_names(cells, lang)]
    return out
