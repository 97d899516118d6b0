"""Why an answer cell stopped: the exception from the student's own cell, and the likely mistake.

A check that finds a name missing or the model untrained sees only the symptom. The cause is
usually an exception in the student's cell (``accuracy_score`` refusing 10 predictions for
1 000 labels), and that exception, with a hint for the mistake behind it, is what the student
needs to read. Both places that compute a verdict know which cell raised what:

* the kernel (the self-check): IPython records every cell's exception by execution count
  (``history_manager.exceptions``, IPython 9). Older versions, as on Colab, do not; there the
  first self-check installs a hook that records them from then on and also takes the cell that
  ran just before it, which in the notebook's order is the practice it checks;
* the clean process: the executed notebook's code cells carry their error outputs, which
  :func:`cell_errors` passes along with the sources, as data.

Both give ``{"ename", "evalue"}`` per cell, aligned with the cell sources. These records come
from student code and are untrusted: they only choose the text that explains a check that has
already failed (:func:`explain`), never whether a check passes.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import source_scan
from .verdict import error_line

ErrorRecord = Mapping[str, Any]  # {"ename": str, "evalue": str}, as in a notebook's error output

# The likely mistake behind an exception, tried in order: (cause id, exception types or None for
# any, pattern searched in the message). The hints live in messages.CAUSES under the same ids.
PATTERNS: tuple[tuple[str, frozenset[str] | None, re.Pattern[str] | None], ...] = tuple(
    (cause, frozenset(types) if types else None, re.compile(pattern) if pattern else None)
    for cause, types, pattern in (
        # fit/evaluate on the labels as loaded ('5'), or accuracy_score mixing them with integers
        ("crash.string_labels", None,
         r"Cast string to (float|int)|Mix of label input types \(string and number\)"
         r"|could not convert string to (float|int)"),
        ("crash.sample_count", None, r"inconsistent numbers of samples"),
        ("crash.label_range", None, r"Received a label value of \S+ which is outside the valid range"),
        # SparseCategoricalCrossentropy with one-hot labels, or CategoricalCrossentropy with integers
        ("crash.label_shape", None,
         r"`target` and `output` must have the same rank|must have rank \(ndim\) `target\.ndim - 1`"
         r"|Shapes \([^)]*\) and \([^)]*\) are incompatible"),
        # Flatten(input_shape=(28, 28)) or a reshape to images, while the data has 784 columns
        ("crash.input_shape", None,
         r"Invalid input shape|incompatible with the layer|Cannot take the length of shape"
         r"|expected axis -1 of input shape"),
        ("crash.compile_first", None, r"must call `compile\(\)`"),
        ("crash.metrics_list", None, r"Expected `metrics` argument to be a list"),
        ("crash.lr_argument", None,
         r"not recognized: \{'lr'|unexpected keyword argument 'lr'|`lr` is deprecated"),
        ("crash.predict_classes", None, r"has no attribute 'predict_classes'"),
        ("crash.score_inputs", None, r"Classification metrics can't handle a mix of"),
        # eval_loss, eval_accuracy = model.evaluate(...) when evaluate returns the loss alone
        ("crash.evaluate_unpack", {"TypeError", "ValueError"},
         r"cannot unpack non-iterable float|(too many|not enough) values to unpack"),
        # the release's stub, left in the cell under (or instead of) the answer
        ("crash.stub_left", {"NotImplementedError"}, None),
        ("crash.name_error", {"NameError", "UnboundLocalError"}, None),
        ("crash.module_missing", {"ModuleNotFoundError", "ImportError"}, None),
        ("crash.syntax", {"SyntaxError", "IndentationError", "TabError"}, None),
    )
)
FALLBACK_CAUSE = "crash.other"

# Mistakes whose usual reason is a crash of the cell that defines a name: mistake id -> that
# name and its cell, each given directly or as ``{field}`` of the mistake (Practice 10's model is
# never compiled, fitted or built when its cell stopped).
_MODEL = ("model", "practice10")
EXPLAINED: dict[str, tuple[str, str]] = {
    "input.missing": ("{name}", "{cell}"),
    "input.missing_upstream": ("{upstream}", "{upstream_cell}"),
    # a model left half-built by a crashed fit cannot be saved or reloaded either
    "input.unreadable": ("{name}", "{cell}"),
    "loss.loss_fn_missing": ("loss_fn", "practice10"),
    "loss.not_compiled": _MODEL,
    "training.not_compiled": _MODEL,
    "training.not_fitted": _MODEL,
    "architecture.not_built": _MODEL,
}
ERROR_LIMIT = 160  # characters of the student's error line shown in a message
_CLIP = 4000  # characters kept from each end of a long message (TensorFlow's carry a stack)
_FILE_LINE = re.compile(r"\((?:[^(),]*), line (\d+)\)")
# TensorFlow appends details after two spaces ("...range of [0, 1).  Label values: 8 9 7 ...")
_DETAILS = re.compile(r"(?<=[.)])\s{2,}.*$")


@dataclass(frozen=True)
class Crash:
    """An exception from a student's cell: its type, its informative line and the likely cause."""

    error_type: str
    error: str
    cause: str

    @classmethod
    def from_record(cls, record: object) -> Crash | None:
        """Read one ``{"ename", "evalue"}`` record; anything malformed is no crash."""
        if not isinstance(record, Mapping):
            return None
        ename, evalue = record.get("ename"), record.get("evalue", "")
        if not isinstance(ename, str) or not ename.isidentifier() or not isinstance(evalue, str):
            return None
        text = clip(evalue)
        line = _DETAILS.sub("", _FILE_LINE.sub(r"(line \1)", error_line(text, ERROR_LIMIT))).rstrip(" .。")
        return cls(ename, line, _cause(ename, text))


def clip(text: str) -> str:
    """``text`` without its middle when it is long: the header and the final cause are kept."""
    return text if len(text) <= 2 * _CLIP else text[:_CLIP] + "\n" + text[-_CLIP:]


def _cause(ename: str, text: str) -> str:
    for cause, types, pattern in PATTERNS:
        if (types is None or ename in types) and (pattern is None or pattern.search(text)):
            return cause
    return FALLBACK_CAUSE


def _target(mistake_id: str, fields: Mapping[str, object]) -> tuple[str, str] | None:
    """The name whose defining cell's crash would explain ``mistake_id``, and that cell."""
    if mistake_id not in EXPLAINED:
        return None
    name, cell = (fields.get(item[1:-1]) if item.startswith("{") else item for item in EXPLAINED[mistake_id])
    return (name, cell) if isinstance(name, str) and isinstance(cell, str) else None


def crash_defining(name: str, sources: Sequence[str], errors: Sequence[object]) -> Crash | None:
    """The crash of the last cell run that assigns ``name``, if that run raised."""
    for index in range(len(sources) - 1, -1, -1):
        if source_scan.cell_assigning([sources[index]], name) is not None:
            return Crash.from_record(errors[index]) if index < len(errors) else None
    return None


def explain(mistake_id: str, fields: Mapping[str, object], sources: Sequence[str],
            errors: Sequence[object]) -> dict[str, str]:
    """Fields that name the crash behind ``mistake_id`` (``cause``, ``crash_*``), or nothing.

    ``messages.mistake_text`` renders a mistake with these fields as the crash (cell, exception
    type, its line) followed by the mistake's own problem, and the cause's hint.
    """
    target = _target(mistake_id, fields)
    if target is None:
        return {}
    crash = crash_defining(target[0], sources, errors)
    if crash is None:
        return {}
    return {"cause": crash.cause, "crash_cell": target[1], "crash_type": crash.error_type,
            "crash_error": crash.error}


def cell_errors(cells: Iterable[Mapping[str, Any]]) -> list[dict[str, str] | None]:
    """Per cell, its first error output as ``{"ename", "evalue"}`` (clipped), or ``None``.

    For the clean-process request: plain data from the executed notebook, used there only for
    messages.
    """
    found: list[dict[str, str] | None] = []
    for cell in cells:
        error = next((o for o in cell.get("outputs", []) if o.get("output_type") == "error"), None)
        found.append(None if error is None else
                     {"ename": str(error.get("ename", "")), "evalue": clip(str(error.get("evalue", "")))})
    return found


# --- The kernel's record ------------------------------------------------------------------------

_RECORDED: dict[int, dict[str, str]] = {}  # execution count -> error, for IPython without its own record


def _record(result: Any) -> None:
    """``post_run_cell`` hook: remember the exception of a cell that raised."""
    error = getattr(result, "error_before_exec", None) or getattr(result, "error_in_exec", None)
    count = getattr(result, "execution_count", None)
    if error is not None and isinstance(count, int):
        _RECORDED[count] = {"ename": type(error).__name__, "evalue": clip(str(error))}


def _ipython_record(shell: Any) -> Mapping[int, ErrorRecord] | None:
    """IPython's own record of every cell's exception (IPython 9), or ``None`` where it has none."""
    recorded = getattr(getattr(shell, "history_manager", None), "exceptions", None)
    return recorded if isinstance(recorded, Mapping) else None


def _own_record(shell: Any) -> Mapping[int, ErrorRecord]:
    events = getattr(shell, "events", None)
    if events is not None and _record not in events.callbacks.get("post_run_cell", []):
        events.register("post_run_cell", _record)
    last = getattr(shell, "last_execution_result", None)
    if last is not None:
        _record(last)
    return _RECORDED


def kernel_errors(history: Sequence[str]) -> list[ErrorRecord | None]:
    """The exceptions of the kernel's cells, aligned with ``history`` (the shell's ``In``).

    Only the running shell's own history has them: for any other list of sources (a namespace
    that is not the shell's) there is nothing to align with.
    """
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None or getattr(shell, "user_ns", {}).get("In") is not history:
        return [None] * len(history)
    recorded = _ipython_record(shell)
    if recorded is None:
        recorded = _own_record(shell)
    return [recorded.get(k) for k in range(len(history))]
