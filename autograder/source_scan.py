"""Static reading of the student's cell sources with ``ast``.

Some mistakes are easiest to name from the code itself: ``argmax(..., axis=0)``, a hard-coded
accuracy, ``fit`` on a slice of the training set. The ``fit`` calls are also an independent
source for check_training, against which the model's own training record is cross-checked. Reading the source also lets a check give the
targeted hint when the student's cell crashed before defining anything.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace


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


# --- What the notebook's ``fit`` calls train on -------------------------------------------------
#
# check_training does not take the training history's word for how the model was trained (the
# student's code can rewrite it). The notebook's own ``fit`` calls, read here, are one of the
# independent sources it is checked against: which data each call was given, its batch size,
# epochs and steps per epoch. Names are followed back to their last assignment before the call
# (across cells, in notebook order, which is the order the grading kernel ran them), so
# ``X_small = X_train[:2000]`` then ``model.fit(X_small, ...)`` is a subset however it is spelled,
# and ``tf.data`` pipelines are followed through ``from_tensor_slices``, ``batch``, ``take``,
# ``repeat`` and the like. Row counts are computed on the grader's own training-set size.

KERAS_DEFAULT_BATCH = 32
# ``Model.fit``'s parameters in Keras 3's positional order.
_FIT_PARAMS = ("x", "y", "batch_size", "epochs", "verbose", "callbacks", "validation_split",
               "validation_data", "shuffle", "class_weight", "sample_weight", "initial_epoch",
               "steps_per_epoch")
# Keywords only Keras' fit takes (scikit-learn's ``fit(X, y)`` takes none of them).
_KERAS_FIT_KEYWORDS = {"epochs", "batch_size", "callbacks", "validation_split", "validation_data",
                       "steps_per_epoch", "initial_epoch", "validation_steps", "validation_freq"}
# Calls and methods that keep an array's rows: ``np.asarray(X_train)``, ``X_train.astype(...)``.
_ROW_PRESERVING = {"asarray", "array", "constant", "convert_to_tensor", "cast", "reshape", "astype",
                   "copy", "float32", "float64", "squeeze", "numpy", "ascontiguousarray"}
# tf.data methods that change neither the rows nor the batching.
_DATASET_NEUTRAL = {"shuffle", "prefetch", "cache", "map", "with_options", "apply_options"}
# The lesson's data cell: ``X_train, X_test, y_train, y_test = load_mnist()``.
_LOADER_ROLES = {"load_mnist": ("train", "test", None, None)}
_MAX_DEPTH = 40
_MAX_NUMBER = 10 ** 12
_ARITHMETIC = {
    ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
    ast.FloorDiv: lambda a, b: a // b, ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a ** b if abs(b) <= 64 and abs(a) <= _MAX_NUMBER else None,
}

Position = tuple[int, int, int]  # (cell, line, column): notebook order, as the kernel ran it


@dataclass(frozen=True)
class _Binding:
    position: Position
    value: ast.expr | None  # None: bound by something this scan does not follow (a loop, `with`)
    index: int | None = None  # the element of a tuple unpacking


@dataclass(frozen=True)
class _Data:
    """What an expression yields as training data, as far as the source tells."""

    origin: str                 # "train", "test" or "unknown"
    rows: int | None = None     # distinct rows it yields per pass
    held_out: int = 0           # rows of X_train set aside for validation before fit (train_test_split)
    dataset: bool = False       # a tf.data pipeline
    batch: int | None = None    # the pipeline's batch size (None: not batched yet)
    drop_remainder: bool = False
    stream: int | None = None   # elements per iteration before batching (None: endless or unknown)
    batches: int | None = None  # batches per iteration after batching (None: endless or unknown)
    subset: bool = False        # only part of its origin's rows (a slice, take, skip, shard)


_UNKNOWN = _Data("unknown")


@dataclass(frozen=True)
class FitCall:
    """One ``fit`` call on the model, with what it trains on computed for the grader's data."""

    code: str                     # the call as written (shortened), for messages
    data: str                     # its ``x`` argument as written
    origin: str                   # "train", "test" or "unknown"
    subset: bool                  # trains on only part of X_train (a slice, take(), skip(), ...)
    full_pass_steps: int | None   # batches in one pass over all of X_train, with this call's batch
                                  # size and validation split (None: batch size not readable)
    epoch_steps: int | None       # batches per Keras epoch (None: not known, or endless)
    epochs: int | None            # epochs the call runs: epochs - initial_epoch (None: not readable)
    may_stop_early: bool          # callbacks were given (EarlyStopping and the like)
    repeated: bool                # inside a loop or a function: may run any number of times


def _short_code(node: ast.AST, limit: int = 80) -> str:
    text = " ".join(ast.unparse(node).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


class _Notebook:
    """The notebook's code cells with every name binding and ``fit`` call in notebook order."""

    def __init__(self, sources: Iterable[str], n_train: int) -> None:
        self.n_train = n_train
        self.bindings: dict[str, list[_Binding]] = {}
        self.fits: list[tuple[Position, ast.Call, bool]] = []
        for cell, source in enumerate(sources):
            tree = parse(source)
            if tree is not None:
                self._scan(tree, cell, repeated=False)
        for found in self.bindings.values():
            found.sort(key=lambda b: b.position)

    def _bind(self, target: ast.expr, position: Position, value: ast.expr | None, index: int | None = None) -> None:
        if isinstance(target, ast.Name):
            self.bindings.setdefault(target.id, []).append(_Binding(position, value, index))
        elif isinstance(target, (ast.Tuple, ast.List)):
            starred = any(isinstance(e, ast.Starred) for e in target.elts)
            for i, element in enumerate(target.elts):
                if isinstance(element, ast.Starred):
                    element = element.value
                self._bind(element, position, None if starred or index is not None else value,
                           None if starred or index is not None else i)

    def _scan(self, node: ast.AST, cell: int, repeated: bool) -> None:
        position = (cell, getattr(node, "lineno", 0), getattr(node, "col_offset", 0))
        if isinstance(node, ast.Assign):
            for target in node.targets:
                self._bind(target, position, node.value)
        elif isinstance(node, (ast.AnnAssign, ast.NamedExpr)) and node.value is not None:
            self._bind(node.target, position, node.value)
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
            self._bind(node.target, position, None)
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            self._bind(node.optional_vars, position, None)
        elif isinstance(node, ast.Call) and _call_name(node) == "fit":
            self.fits.append((position, node, repeated))
        inner = repeated or isinstance(node, (ast.For, ast.AsyncFor, ast.While, ast.FunctionDef,
                                              ast.AsyncFunctionDef, ast.Lambda, ast.ListComp,
                                              ast.SetComp, ast.DictComp, ast.GeneratorExp))
        for child in ast.iter_child_nodes(node):
            self._scan(child, cell, inner)

    def binding(self, name: str, before: Position) -> _Binding | None:
        found = None
        for b in self.bindings.get(name, []):
            if b.position < before:
                found = b
        return found

    # -- numbers -------------------------------------------------------------------------------

    def integer(self, node: ast.expr | None, at: Position, depth: int = 0) -> int | None:
        """``node`` as an int when the source fixes it: a literal, a name bound to one, ``len(X_train)``."""
        value = self.number(node, at, depth)
        return value if isinstance(value, int) else None

    def number(self, node: ast.expr | None, at: Position, depth: int = 0) -> int | float | None:
        if node is None or depth > _MAX_DEPTH:
            return None
        if isinstance(node, ast.Constant):
            value = node.value
            return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
        if isinstance(node, ast.Name):
            b = self.binding(node.id, at)
            if b is None or b.value is None:
                return None
            value = b.value
            if b.index is not None:
                if not isinstance(value, (ast.Tuple, ast.List)) or b.index >= len(value.elts):
                    return None
                value = value.elts[b.index]
            return self.number(value, b.position, depth + 1)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            value = self.number(node.operand, at, depth + 1)
            return -value if value is not None else None
        if isinstance(node, ast.BinOp):
            left, right = self.number(node.left, at, depth + 1), self.number(node.right, at, depth + 1)
            if left is None or right is None:
                return None
            try:
                value = _ARITHMETIC[type(node.op)](left, right) if type(node.op) in _ARITHMETIC else None
            except (ZeroDivisionError, OverflowError, TypeError, ValueError):
                return None
            # No batch size or row count is this large; a bound keeps `2**64**64...` from hanging.
            return value if value is not None and abs(value) <= _MAX_NUMBER else None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and len(node.args) == 1:
            if node.func.id == "len":
                return self.data(node.args[0], at, depth + 1).rows
            if node.func.id == "int":
                value = self.number(node.args[0], at, depth + 1)
                return int(value) if value is not None else None
        # X_train.shape[0]
        if (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute)
                and node.value.attr == "shape" and _literal(node.slice) == 0):
            return self.data(node.value.value, at, depth + 1).rows
        return None

    # -- data ----------------------------------------------------------------------------------

    def data(self, node: ast.expr | None, at: Position, depth: int = 0) -> _Data:
        """What ``node`` yields as training data at position ``at``."""
        if node is None or depth > _MAX_DEPTH:
            return _UNKNOWN
        if isinstance(node, ast.Name):
            b = self.binding(node.id, at)
            if b is None or b.value is None:
                return _UNKNOWN
            if b.index is not None:
                return self._unpacked(b.value, b.index, b.position, depth + 1)
            return self.data(b.value, b.position, depth + 1)
        if isinstance(node, ast.Subscript):
            return self._rows_of(node, at, depth)
        if isinstance(node, ast.BinOp):  # X_train / 255.0
            for side in (node.left, node.right):
                found = self.data(side, at, depth + 1)
                if found.origin != "unknown" and not found.dataset:
                    return found
            return _UNKNOWN
        if isinstance(node, ast.Call):
            return self._call_data(node, at, depth)
        return _UNKNOWN

    def _unpacked(self, value: ast.expr, index: int, at: Position, depth: int) -> _Data:
        if isinstance(value, (ast.Tuple, ast.List)):
            return self.data(value.elts[index], at, depth) if index < len(value.elts) else _UNKNOWN
        if not isinstance(value, ast.Call):
            return _UNKNOWN
        name = _call_name(value)
        roles = _LOADER_ROLES.get(name)
        if roles is not None:
            role = roles[index] if index < len(roles) else None
            if role == "train":
                return _Data("train", rows=self.n_train)
            return _Data("test") if role == "test" else _UNKNOWN
        if name == "train_test_split" and value.args and index in (0, 1):
            return self._split(value, index, at, depth)
        return _UNKNOWN

    def _split(self, call: ast.Call, index: int, at: Position, depth: int) -> _Data:
        """``train_test_split(X_train, ...)``: its training part is X_train with a validation hold-out.

        Holding rows out for validation is what ``validation_split`` does too, so the training
        part counts as all of X_train; the held-out part is only a part of it.
        """
        base = self.data(call.args[0], at, depth)
        if base.origin == "unknown" or base.dataset or base.rows is None:
            return _Data(base.origin) if base.origin != "unknown" else _UNKNOWN
        n = base.rows
        test, train = (self.number(keyword(call, k), at, depth) for k in ("test_size", "train_size"))
        if test is None and train is None and keyword(call, "test_size") is None and keyword(call, "train_size") is None:
            test = 0.25
        n_test = (math.ceil(test * n) if isinstance(test, float) else test) if test is not None else None
        n_train = (math.floor(train * n) if isinstance(train, float) else train) if train is not None else None
        if n_train is None and n_test is not None:
            n_train = n - n_test
        if n_test is None and n_train is not None:
            n_test = n - n_train
        if n_train is None or n_test is None or not 0 < n_train < n:
            return _Data(base.origin, subset=True)
        if index == 0:
            return replace(base, rows=n_train, held_out=base.held_out + n - n_train)
        return replace(base, rows=n_test, subset=True)

    def _rows_of(self, node: ast.Subscript, at: Position, depth: int) -> _Data:
        base = self.data(node.value, at, depth + 1)
        if base.origin == "unknown" or base.dataset:
            return _UNKNOWN
        index = node.slice.elts[0] if isinstance(node.slice, ast.Tuple) and node.slice.elts else node.slice
        if not isinstance(index, ast.Slice):
            row = self.integer(index, at, depth + 1)
            # One literal row is a part; an index array (a permutation, a mask) is not known.
            return replace(base, rows=1, subset=True) if row is not None else replace(base, rows=None)
        parts = [index.lower, index.upper, index.step]
        values = [self.integer(p, at, depth + 1) for p in parts]
        if any(p is not None and v is None for p, v in zip(parts, values)):
            return replace(base, rows=None)
        if base.rows is None:
            return replace(base, subset=base.subset or any(v is not None for v in values))
        if values[2] == 0:  # a step of 0 raises in the student's code too
            return _UNKNOWN
        rows = len(range(base.rows)[slice(*values)])
        return replace(base, rows=rows, subset=base.subset or rows < base.rows)

    def _call_data(self, call: ast.Call, at: Position, depth: int) -> _Data:
        name = _call_name(call)
        if name == "from_tensor_slices" and call.args:
            arg = call.args[0]
            if isinstance(arg, (ast.Tuple, ast.List)) and arg.elts:
                arg = arg.elts[0]
            elif isinstance(arg, ast.Dict) and arg.values:
                arg = arg.values[0]
            base = self.data(arg, at, depth + 1)
            if base.origin == "unknown" or base.dataset:
                return _UNKNOWN
            return replace(base, dataset=True, stream=base.rows)
        receiver = self.data(call.func.value, at, depth + 1) if isinstance(call.func, ast.Attribute) else _UNKNOWN
        if receiver.dataset:
            return self._dataset_step(receiver, name, call, at, depth)
        if name in _ROW_PRESERVING:
            if receiver.origin != "unknown":
                return receiver
            if call.args:
                found = self.data(call.args[0], at, depth + 1)
                if not found.dataset:
                    return found
        return _UNKNOWN

    def _dataset_step(self, ds: _Data, name: str, call: ast.Call, at: Position, depth: int) -> _Data:
        """One tf.data method applied to a pipeline."""
        if name in _DATASET_NEUTRAL:
            return ds
        count = self.integer(keyword(call, "count", 0), at, depth + 1)
        batched = ds.batch is not None
        if name in ("batch", "padded_batch"):
            size = self.integer(keyword(call, "batch_size", 0), at, depth + 1)
            drop = _literal(keyword(call, "drop_remainder", 1)) is True
            if batched or size is None or size <= 0:  # batches of batches, or a size we cannot read
                return _Data(ds.origin, dataset=True, subset=ds.subset)
            batches = None if ds.stream is None else (ds.stream // size if drop else math.ceil(ds.stream / size))
            return replace(ds, batch=size, drop_remainder=drop, batches=batches)
        if name == "repeat":
            if keyword(call, "count", 0) is None:
                return replace(ds, stream=None, batches=None)
            if count is None or count < 1:
                return _Data(ds.origin, dataset=True, subset=ds.subset)
            if batched:
                return replace(ds, batches=None if ds.batches is None else ds.batches * count)
            return replace(ds, stream=None if ds.stream is None else ds.stream * count)
        if name in ("take", "skip"):
            if count is None:
                return _Data(ds.origin, dataset=True, subset=True)
            unit = ds.batch if batched else 1
            items = ds.batches if batched else ds.stream
            kept = (min(items, count) if name == "take" else max(items - count, 0)) if items is not None \
                else (count if name == "take" else None)
            rows = None if ds.rows is None or kept is None else min(ds.rows, kept * unit)
            subset = ds.subset or rows is None or (ds.rows is not None and rows < ds.rows)
            if batched:
                return replace(ds, rows=rows, batches=kept, subset=subset)
            return replace(ds, rows=rows, stream=kept, subset=subset)
        if name == "shard":
            return _Data(ds.origin, dataset=True, subset=True)
        return _Data("unknown", dataset=True)  # filter, unbatch, interleave...: not followed

    # -- fit calls -----------------------------------------------------------------------------

    def model_names(self) -> set[str]:
        """``model`` and the names it was assigned from (``net = ...; model = net``)."""
        names, todo = set(), ["model"]
        while todo:
            name = todo.pop()
            if name in names:
                continue
            names.add(name)
            todo += [b.value.id for b in self.bindings.get(name, []) if isinstance(b.value, ast.Name)]
        return names

    def is_model_fit(self, call: ast.Call) -> bool:
        """A fit on the model: on ``model`` or an alias, or (inside a helper) Keras-only keywords."""
        receiver = call.func.value if isinstance(call.func, ast.Attribute) else None
        if isinstance(receiver, ast.Name) and receiver.id in self.model_names():
            return True
        keras_keywords = any(kw.arg in _KERAS_FIT_KEYWORDS for kw in call.keywords)
        bound_elsewhere = isinstance(receiver, ast.Name) and receiver.id in self.bindings
        return keras_keywords and not bound_elsewhere

    def fit_call(self, position: Position, call: ast.Call, repeated: bool) -> FitCall:
        def arg(name: str) -> ast.expr | None:
            return keyword(call, name, _FIT_PARAMS.index(name))

        unreadable = any(kw.arg is None for kw in call.keywords) or any(isinstance(a, ast.Starred) for a in call.args)
        x = arg("x")
        data = _UNKNOWN if unreadable else self.data(x, position)
        epochs_node, initial_node = arg("epochs"), arg("initial_epoch")
        epochs = 1 if epochs_node is None else self.integer(epochs_node, position)
        initial = 0 if initial_node is None else self.integer(initial_node, position)
        split_node = arg("validation_split")
        split = 0.0 if split_node is None else self.number(split_node, position)
        steps_node = arg("steps_per_epoch")
        steps = None if steps_node is None else self.integer(steps_node, position)
        if data.dataset:
            batch, drop = data.batch, data.drop_remainder
        else:
            batch_node = arg("batch_size")
            default = batch_node is None or isinstance(batch_node, ast.Constant) and batch_node.value is None
            batch = KERAS_DEFAULT_BATCH if default else self.integer(batch_node, position)
            drop = False
        full_pass = None
        if batch is not None and batch > 0 and split is not None and 0 <= split < 1 and not unreadable:
            rows = math.floor((self.n_train - data.held_out) * (1.0 - split))
            full_pass = rows // batch if drop else math.ceil(rows / batch)
        if steps_node is not None:
            epoch_steps = steps
        elif data.dataset:
            epoch_steps = data.batches
        elif data.rows is not None and batch and split is not None and full_pass is not None:
            used = math.floor(data.rows * (1.0 - split))
            epoch_steps = math.ceil(used / batch)
        else:
            epoch_steps = None
        callbacks = arg("callbacks")
        may_stop = callbacks is not None and not (
            isinstance(callbacks, (ast.List, ast.Tuple)) and not callbacks.elts
            or isinstance(callbacks, ast.Constant) and callbacks.value is None)
        return FitCall(
            code=_short_code(call), data=_short_code(x) if x is not None else "",
            origin=data.origin, subset=data.subset or (data.rows is not None and data.origin == "train"
                                                       and data.rows + data.held_out < self.n_train),
            full_pass_steps=full_pass if full_pass else None, epoch_steps=epoch_steps,
            epochs=None if epochs is None or initial is None else max(epochs - initial, 0),
            may_stop_early=may_stop, repeated=repeated)


def fit_calls(sources: Iterable[str], n_train: int) -> list[FitCall]:
    """Every ``fit`` call on the model in the notebook, in notebook order.

    ``n_train`` is the grader's own training-set size: row counts, and so the steps of one pass
    over the whole set, are computed from it, never from the student's arrays.
    """
    notebook = _Notebook(sources, n_train)
    return [notebook.fit_call(position, call, repeated)
            for position, call, repeated in notebook.fits if notebook.is_model_fit(call)]


# Attributes that hold Keras' training record: the History callback's and the optimizer's.
_RECORD_ATTRIBUTES = {"history", "epoch", "params"}
_COUNTER_ATTRIBUTES = {"iterations", "_iterations"}
_MUTATORS = {"append", "extend", "insert", "update", "setdefault", "pop", "clear", "__setitem__",
             "assign", "assign_add", "assign_sub"}


def _attribute_chain(node: ast.AST) -> list[str]:
    names = []
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        if isinstance(node, ast.Attribute):
            names.append(node.attr)
        node = node.value
    return names


def _writes_record(node: ast.AST) -> bool:
    if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            for sub in ast.walk(target):
                if isinstance(sub, (ast.Attribute, ast.Subscript)) and isinstance(sub.ctx, ast.Store) \
                        and set(_attribute_chain(sub)) & (_RECORD_ATTRIBUTES | _COUNTER_ATTRIBUTES):
                    return True
    if isinstance(node, ast.Delete):
        return any(set(_attribute_chain(t)) & (_RECORD_ATTRIBUTES | _COUNTER_ATTRIBUTES) for t in node.targets)
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Attribute) and node.func.attr in _MUTATORS:
            chain = set(_attribute_chain(node.func.value))
            if chain & _COUNTER_ATTRIBUTES or (chain & _RECORD_ATTRIBUTES and node.func.attr not in
                                               {"assign", "assign_add", "assign_sub"}):
                return True
        if isinstance(node.func, ast.Name) and node.func.id in {"setattr", "delattr"} and len(node.args) >= 2:
            name = _literal(node.args[1])
            return isinstance(name, str) and name in _RECORD_ATTRIBUTES | _COUNTER_ATTRIBUTES
    return False


def training_record_write(sources: Iterable[str]) -> str | None:
    """The first statement that rewrites Keras' training record, as written, or ``None``.

    ``model.history.epoch = ...``, ``history.params['steps'] = ...``, ``setattr(h, 'epoch', ...)``
    and ``model.optimizer.iterations.assign(...)`` change what the grader is told about the
    training without training. Honest code only reads these. A read such as
    ``history.history['loss'][-1]`` is not a write.
    """
    for source in sources:
        tree = parse(source)
        if tree is None:
            continue
        for node in ast.walk(tree):
            if _writes_record(node):
                return _short_code(node)
    return None
