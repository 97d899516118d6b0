"""What an honest test cell leaves in its outputs, and what else a kernel wrote there.

A test cell's source is the grader's (nbgrader's OverwriteCells restores it): calls of
``verify(check_id, globals(), hidden=...)``. Each call (see :func:`autograder.cells.verify`)
publishes its verdict as display data (:func:`~autograder.verdict.verdict_bundle`), then either prints the
verdict's lines (a pass) or raises ``CheckFailed``, whose traceback is those lines and which ends
the cell (a failure). The outputs of an honest kernel are therefore fully determined by the
verdicts it published and the cell's source.

Anything else in the cell was written by code other than the check: an ``execute_result`` from a
displayhook (nbgrader reads it as partial credit), a print from an IPython hook or a thread, a
display of text, a verdict the cell's calls did not make, a missing verdict. The grader replaces
the outputs anyway; this module only says what was there, so the submission can be flagged.

Two things are accepted that the kernel did not write as ``verify`` renders them, because they
add nothing: consecutive stdout pieces are compared joined (a print may reach the grader in two
messages), and nbgrader's own record of an error whose traceback display was switched off in the
kernel (its ``Execute`` then adds the error from the kernel's reply).
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterable, Mapping, Sequence
from difflib import SequenceMatcher
from typing import Any

from . import messages
from .verdict import VERDICT_MIME, Verdict, verdict_bundle

# What nbgrader's Execute writes as the traceback of an error the kernel reported without one.
NBGRADER_EMPTY_TRACEBACK = ["ERROR: An error occurred while showtraceback was disabled"]
# What SurvivingExecute writes when the kernel died in the cell: the grader's, not the kernel's.
DEAD_KERNEL = "DeadKernelError"
_SHOWN = 80  # characters of a foreign output quoted in the review record


def verify_calls(source: str) -> list[bool]:
    """The ``hidden`` flag of each top-level ``verify(...)`` call of a test cell, in order."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    flags = []
    for stmt in tree.body:
        call = stmt.value if isinstance(stmt, ast.Expr) else None
        if not isinstance(call, ast.Call):
            continue
        name = call.func.id if isinstance(call.func, ast.Name) else getattr(call.func, "attr", None)
        if name != "verify":
            continue
        hidden = next((k.value for k in call.keywords if k.arg == "hidden"), None)
        flags.append(isinstance(hidden, ast.Constant) and hidden.value is True)
    return flags


def _canonical(output: Mapping[str, Any]) -> dict[str, Any]:
    """The parts of an output that reach a reader or nbgrader's grade, as plain JSON."""
    kind = output.get("output_type")
    if kind == "stream":
        return {"output_type": kind, "name": output.get("name"), "text": _joined(output.get("text", ""))}
    if kind == "error":
        return {"output_type": kind, "ename": output.get("ename"), "evalue": output.get("evalue"),
                "traceback": list(output.get("traceback") or [])}
    if kind in ("display_data", "execute_result"):
        return {"output_type": kind, "data": dict(output.get("data") or {}),
                "metadata": dict(output.get("metadata") or {})}
    return json.loads(json.dumps(dict(output), default=str))


def _joined(text: object) -> str:
    return "".join(text) if isinstance(text, list) else str(text)


def _merge_streams(outputs: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    merged: list[dict[str, Any]] = []
    for output in map(_canonical, outputs):
        last = merged[-1] if merged else None
        if (last and output["output_type"] == "stream" and last["output_type"] == "stream"
                and last["name"] == output["name"]):
            last["text"] += output["text"]
        else:
            merged.append(output)
    return merged


def _follow_ups(verdict: Verdict, hidden: bool) -> list[dict[str, Any]]:
    """What ``verify`` writes after publishing ``verdict``, in every language the kernel may use.

    The first is what it writes in the grader's language, the one reported as missing.
    """
    out = []
    current = messages.current_language()
    for lang in (current, *(lang for lang in messages.LANGUAGES if lang != current)):
        if verdict.passed:
            lines = verdict.lines(lang, self_check=not hidden)
            out.append({"output_type": "stream", "name": "stdout", "text": "\n".join(lines) + "\n"})
        else:
            lines = verdict.lines(lang)
            for traceback in (lines, NBGRADER_EMPTY_TRACEBACK):
                out.append({"output_type": "error", "ename": "CheckFailed", "evalue": "\n".join(lines),
                            "traceback": list(traceback)})
    return out


def _published(output: Mapping[str, Any], check_id: str, hidden: bool) -> Verdict | None:
    """The verdict ``output`` is, if it is exactly what ``verify(check_id, hidden=hidden)`` displays."""
    data = output.get("data", {})
    record = data.get(VERDICT_MIME) if isinstance(data, Mapping) else None
    if output["output_type"] != "display_data" or data != verdict_bundle(record) or output.get("metadata"):
        return None
    if not (isinstance(record, dict) and record.get("check_id") == check_id and record.get("hidden") is hidden):
        return None
    for fields in (record.get("fields"), _unclean(record.get("fields"))):
        try:
            verdict = Verdict.from_json({**record, "fields": fields or {}})
            verdict.lines()  # a verdict no check can make (unknown mistake, missing fields) is foreign
            return verdict
        except Exception:  # noqa: BLE001 - anything unreadable was not written by verify
            continue
    return None


def _unclean(fields: object) -> object:
    """``fields`` with the floats put back that jupyter_client sent as text.

    A message with NaN or infinity is not valid JSON; jupyter_client then sends those floats as
    their repr ("nan"), so a verdict about a diverged model arrives with text where ``verify``
    formatted a number.
    """
    if not isinstance(fields, dict):
        return fields
    return {k: float(v) if v in ("nan", "inf", "-inf") else v for k, v in fields.items()}


def honest_outputs(outputs: Sequence[Mapping[str, Any]], check_id: str, calls: Sequence[bool]) -> list[dict[str, Any]]:
    """The outputs an honest kernel would have written, given the verdicts this one published.

    Each ``verify`` call in ``calls`` (its ``hidden`` flag) is paired with the next published
    verdict display that it could have made; its follow-up (print or error) is the one that
    matches the next actual output, else the current language's.
    """
    actual = _merge_streams(outputs)
    expected: list[dict[str, Any]] = []
    position = 0
    for hidden in calls:
        found = next(((i, v) for i, o in enumerate(actual[position:], position)
                      if (v := _published(o, check_id, hidden)) is not None), None)
        if found is None:
            break
        index, verdict = found
        expected.append(actual[index])
        candidates = _follow_ups(verdict, hidden)
        after = actual[index + 1] if index + 1 < len(actual) else None
        expected.append(after if after in candidates else candidates[0])
        position = index + 1
        if not verdict.passed:
            break
    return expected


def shown_self_check(outputs: Sequence[Mapping[str, Any]], check_id: str) -> Verdict | None:
    """The self-check verdict the student saw in this cell, if an honest ``verify`` showed one.

    Kept by the grader for the TA (what the student was told before the hidden test ran); it is
    the kernel's word, so it never decides a point.
    """
    return next((v for o in map(_canonical, outputs) if (v := _published(o, check_id, False)) is not None), None)


def describe(output: Mapping[str, Any]) -> str:
    """A short, single-line account of an output, for the review record and the log."""
    kind = output.get("output_type")
    if kind == "stream":
        what = f"{output.get('name')} {_joined(output.get('text', ''))!r}"
    elif kind == "error":
        what = f"error {output.get('ename')}: {str(output.get('evalue'))!r}"
    elif kind in ("display_data", "execute_result"):
        data = output.get("data") or {}
        if VERDICT_MIME in data:
            record = data[VERDICT_MIME]
            what = f"{kind} of a verdict {json.dumps(record, ensure_ascii=False, default=str)}"
        else:
            plain = data.get("text/plain")
            what = f"{kind} {sorted(data)}" + (f" {_joined(plain)!r}" if plain is not None else "")
    else:
        what = str(kind)
    return what if len(what) <= _SHOWN else what[:_SHOWN - 3] + "..."


def foreign_outputs(outputs: Sequence[Mapping[str, Any]], check_id: str, source: str, *,
                    kernel_died: bool = False) -> list[str]:
    """What a test cell's kernel wrote beyond what its ``verify`` calls publish ([] if nothing).

    ``kernel_died``: the kernel stopped during or before this cell; the grader's own
    DeadKernelError record is then not the kernel's, and the honest outputs may end early.
    """
    actual = _merge_streams(outputs)
    if kernel_died:
        actual = [o for o in actual if not (o["output_type"] == "error" and o["ename"] == DEAD_KERNEL)]
    expected = honest_outputs(actual, check_id, verify_calls(source))
    found = []
    matcher = SequenceMatcher(None, [_key(o) for o in actual], [_key(o) for o in expected], autojunk=False)
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag in ("replace", "delete"):
            found += [f"kernel wrote {describe(o)}" for o in actual[a0:a1]]
        if tag in ("replace", "insert") and not kernel_died:
            found += [f"missing {describe(o)}" for o in expected[b0:b1]]
    if not kernel_died and len(expected) < 2 * len(verify_calls(source)) and not _ended_by_failure(expected):
        found.append("a verify call of the cell published no verdict")
    return found


def _ended_by_failure(expected: Sequence[Mapping[str, Any]]) -> bool:
    return bool(expected) and expected[-1]["output_type"] == "error"


def _key(output: Mapping[str, Any]) -> str:
    return json.dumps(output, sort_keys=True, ensure_ascii=False, default=str)
