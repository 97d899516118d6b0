"""Static reading of the student's cell sources with ``ast``.

Some mistakes are easiest to name from the code itself: ``argmax(..., axis=0)``, a hard-coded
accuracy, ``fit`` on a slice of the training set. Reading the source also lets a check give the
targeted hint when the student's cell crashed before defining anything.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass


def parse(source: str) -> ast.Module | None:
    """Parse a cell; IPython magics are translated first. Unparsable cells give ``None``."""
    try:
        return ast.parse(source)
    except SyntaxError:
        pass
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        return ast.parse(TransformerManager().transform_cell(source))
    except Exception:  # noqa: BLE001 - any failure simply means "cannot read this cell"
        return None


def _assigned_names(tree: ast.AST) -> Iterator[str]:
    for node in ast.walk(tree):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        for target in targets:
            for sub in ast.walk(target):
                if isinstance(sub, ast.Name):
                    yield sub.id


def cell_assigning(sources: Iterable[str], name: str) -> ast.Module | None:
    """The parsed tree of the last cell that assigns ``name``."""
    found = None
    for source in sources:
        tree = parse(source)
        if tree is not None and name in set(_assigned_names(tree)):
            found = tree
    return found


def _call_name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def calls(tree: ast.AST | None, name: str) -> list[ast.Call]:
    """Every call to ``name(...)`` or ``something.name(...)`` in ``tree``."""
    if tree is None:
        return []
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call) and _call_name(n) == name]


def _literal(node: ast.expr | None) -> object:
    if node is None:
        return None
    try:
        return ast.literal_eval(node)
    except ValueError:
        return None


def keyword(call: ast.Call, name: str, position: int | None = None) -> ast.expr | None:
    """The argument node passed as ``name=`` or at ``position``."""
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    if position is not None and len(call.args) > position:
        return call.args[position]
    return None


_TF_MODULES = {"tf", "tensorflow"}


def _is_tf_argmax(call: ast.Call) -> bool:
    """``tf.argmax(...)`` or ``tf.math.argmax(...)``: functions whose default axis is 0."""
    func = call.func
    if not isinstance(func, ast.Attribute):
        return False
    owner = func.value
    if isinstance(owner, ast.Attribute) and owner.attr == "math":
        owner = owner.value
    return isinstance(owner, ast.Name) and owner.id in _TF_MODULES


def argmax_axis0(tree: ast.AST | None) -> str | None:
    """How the cell takes an argmax along axis 0, as a mistake id, or ``None``.

    ``np.argmax(x, axis=0)``, ``np.argmax(x, 0)`` and ``x.argmax(0)`` write the axis out;
    ``tf.argmax(x)`` uses axis 0 without saying so (NumPy's default is a flat argmax instead).
    """
    found = None
    for call in calls(tree, "argmax"):
        is_method = isinstance(call.func, ast.Attribute) and not (
            isinstance(call.func.value, ast.Name) and call.func.value.id in {"np", "numpy"}
        ) and not _is_tf_argmax(call)
        axis = keyword(call, "axis", 0 if is_method else 1)
        if axis is not None and _literal(axis) == 0:
            return "argmax.axis0"
        if axis is None and _is_tf_argmax(call):
            found = "argmax.tf_default_axis0"
    return found


def uses_argmax_axis0(tree: ast.AST | None) -> bool:
    """True when the cell takes an argmax along axis 0 (explicitly or by ``tf.argmax``'s default)."""
    return argmax_axis0(tree) is not None


def _last_assignment(tree: ast.AST | None, name: str) -> ast.Assign | None:
    """The last plain ``name = ...`` statement in ``tree`` (source order)."""
    if tree is None:
        return None
    found = None
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            if found is None or (node.lineno, node.col_offset) > (found.lineno, found.col_offset):
                found = node
    return found


def assigns_constant(tree: ast.AST | None, name: str) -> bool:
    """True when the last assignment to ``name`` is a number literal, e.g. ``accuracy = 0.91``.

    Only the last one counts: ``accuracy = 0`` followed by a real computation is fine.
    """
    node = _last_assignment(tree, name)
    if node is None:
        return False
    value = _literal(node.value)
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def row_index(tree: ast.AST | None, name: str, arrays: Iterable[str]) -> int | None:
    """The literal row ``i`` in ``array[i]`` used by the last assignment to ``name``.

    For ``first_label = np.argmax(probability[1])`` this is ``1``; ``None`` when the value is
    not built from a literal row of one of ``arrays``.
    """
    node = _last_assignment(tree, name)
    if node is None:
        return None
    wanted = set(arrays)
    for sub in ast.walk(node.value):
        if isinstance(sub, ast.Subscript) and isinstance(sub.value, ast.Name) and sub.value.id in wanted:
            index = sub.slice.elts[0] if isinstance(sub.slice, ast.Tuple) and sub.slice.elts else sub.slice
            value = _literal(index)
            if isinstance(value, int) and not isinstance(value, bool):
                return value
    return None


@dataclass(frozen=True)
class FitCall:
    """What the last ``fit`` call in the notebook says about the data it was given."""

    batch_size: int | None  # None: given, but not as a literal we can read
    validation_split: float


def last_fit_call(sources: Iterable[str]) -> FitCall | None:
    """Batch size and validation split of the last ``fit(...)`` call, with Keras' defaults."""
    found: FitCall | None = None
    for source in sources:
        for call in calls(parse(source), "fit"):
            batch_node = keyword(call, "batch_size", 2)
            batch = 32 if batch_node is None else _literal(batch_node)
            split = _literal(keyword(call, "validation_split"))
            found = FitCall(
                batch_size=batch if isinstance(batch, int) and batch > 0 else None,
                validation_split=float(split) if isinstance(split, (int, float)) else 0.0,
            )
    return found
