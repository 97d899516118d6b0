"""What a check decides: a verdict, and the exception a check raises to report a mistake.

A check body raises :class:`Mistake` at the first thing it finds wrong; the runner turns that
into a :class:`Verdict`. Verdicts carry a stable mistake id (for reports and CSVs) and the
fields needed to render the message in any language later, so the same verdict can be shown
in Japanese to a student and aggregated by id for a TA.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

from . import messages


# MIME type of the machine-readable verdict that every test cell attaches to its outputs.
VERDICT_MIME = "application/vnd.nn-autograder.verdict+json"


def verdict_bundle(payload: dict) -> dict[str, object]:
    """The ``data`` of the display output that carries a verdict (see :data:`VERDICT_MIME`).

    The bundle also holds an empty ``text/plain``, so that every front end finds a type it can
    render and shows nothing: JupyterLab, Notebook 7, nbconvert and Colab pick the best type
    they know and ignore the custom one, but VS Code ranks every ``application/vnd.*`` type
    first and, when an output has no type it can render at all, shows "No renderer could be
    found" instead of skipping it. With an empty text it falls back to that text, which is
    invisible. The text carries no message: the student's message is in the cell's own
    stdout or error output, and repeating it here would show it twice.
    """
    return {VERDICT_MIME: payload, "text/plain": ""}


def output_verdict(output: Mapping) -> dict | None:
    """The verdict payload of one notebook output, or None when it carries none.

    The only reader of the format: the grader, the feedback page and the reports all go
    through this (and :func:`autograder.course.cell_verdicts`).
    """
    if output.get("output_type") != "display_data":
        return None
    payload = (output.get("data") or {}).get(VERDICT_MIME)
    return payload if isinstance(payload, dict) else None


def plain(value: object) -> object:
    """``value`` as a JSON scalar that renders the same before and after a JSON round trip.

    Message fields travel as JSON (the verdict attached to each test cell, the clean-process
    verdict), and a tuple would come back as a list and print as ``[1000, 10]`` instead of
    ``(1000, 10)``. So shapes and other containers are turned into their text at once, NumPy
    scalars into Python numbers.
    """
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "shape", None) == ():
        try:
            return plain(item())
        except Exception:  # noqa: BLE001 - fall back to the text
            pass
    if isinstance(value, (tuple, list)):
        return str(tuple(plain(v) for v in value))
    return str(value)


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
# Keras wraps an error raised inside a layer in a header line that names only the wrapper.
_WRAPPER_LINES = ("Exception encountered when calling",)


def error_line(message: str, limit: int = 200) -> str:
    """The one informative line of an exception's message, short enough to read in a message.

    TensorFlow's errors start with a header such as ``Graph execution error:`` followed by a
    stack; the cause is the last plain line, so that one is kept. Keras' "Exception
    encountered when calling ..." header is skipped for the line after it.
    """
    plain_text = _ANSI.sub("", message)  # Keras colours parts of its messages
    lines = [ln.strip() for ln in plain_text.splitlines() if ln.strip()]
    while len(lines) > 1 and lines[0].startswith(_WRAPPER_LINES):
        lines = lines[1:]
    detail = lines[0] if lines else ""
    if len(lines) > 1 and detail.endswith(":"):
        causes = [ln for ln in lines[1:] if not ln.startswith(("File ", "[[", "Detected at node"))]
        detail = causes[-1] if causes else detail
    return detail if len(detail) <= limit else detail[:limit - 3] + "..."


def error_text(exc: BaseException, limit: int = 200) -> str:
    """``Type: message`` of a student-side error, its message cut to the informative line."""
    detail = error_line(str(exc), limit)
    text = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
    return text if len(text) <= limit else text[:limit - 3] + "..."


class Mistake(Exception):
    """Raised inside a check body: the submission has the mistake ``mistake_id``."""

    def __init__(self, mistake_id: str, **fields: object) -> None:
        if mistake_id not in messages.MISTAKES:
            raise KeyError(f"unknown mistake id {mistake_id!r}")
        super().__init__(mistake_id)
        self.mistake_id = mistake_id
        self.fields = {name: plain(value) for name, value in fields.items()}


@dataclass(frozen=True)
class Verdict:
    """The outcome of one check on one submission."""

    check_id: str
    passed: bool
    mistake_id: str | None = None
    fields: dict[str, object] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def lines(self, lang: str | None = None, *, self_check: bool = False) -> list[str]:
        """The readable lines a student sees for this verdict."""
        title = messages.title(self.check_id, lang)
        if self.passed:
            key = "check.self_passed" if self_check else "check.passed"
            out = [messages.text(key, lang, title=title)]
        else:
            assert self.mistake_id is not None
            problem, hint = messages.mistake_text(self.mistake_id, lang, **self.fields)
            out = [messages.text("check.failed", lang, title=title, problem=problem),
                   messages.text("check.hint", lang, hint=hint)]
        out += [messages.text("check.note", lang, note=messages.note_text(n, lang)) for n in self.notes]
        return out

    def to_json(self, **extra: object) -> dict:
        """A JSON-safe dict (fields such as shapes become lists or strings)."""
        return json.loads(json.dumps({**asdict(self), **extra}, default=str))

    @classmethod
    def from_json(cls, data: dict) -> "Verdict":
        return cls(data["check_id"], bool(data["passed"]), data.get("mistake_id"),
                   dict(data.get("fields", {})), tuple(data.get("notes", ())))
