"""Triage of submitted notebooks: read what can be read, restore what the student broke.

Students submit damaged files: invalid JSON, an old nbformat, cells without ids, deleted or
duplicated test cells, a solution cell split in two, megabytes of output. Grading must neither
crash nor hand out points for a test that did not run, and a damaged but readable answer still
earns credit for what runs. Two steps, both before any kernel starts:

* :func:`read_submission` reads a submitted file as nbformat does when it is a valid notebook,
  and otherwise through :func:`salvage`, which turns any bytes into a clean nbformat-4
  notebook holding the cells that can be recovered (sources and nbgrader metadata only;
  outputs are dropped), or raises :class:`Unreadable` with a reason;
* :func:`restore_cells` lays the salvaged cells over the release: every graded or locked cell of
  the release appears exactly once, in the release's order; the student's answer cells and any
  cells they added are kept next to the cell they followed.
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

import nbformat
from nbformat import NotebookNode
from nbformat.warnings import DuplicateCellId, MissingIDFieldWarning
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell

# A real submission is about 50 kB; outputs may add a few MB. Beyond this, reading it is the attack.
MAX_BYTES = 64 * 1024 * 1024
_NEW_CELL = {"code": new_code_cell, "markdown": new_markdown_cell, "raw": new_raw_cell}
# Every repair is logged as "REPAIRED <student>: <note>", so the bulk grader can record it.
REPAIRED = "Repaired the submission of"
# Where the repairs travel: in nbgrader's resources from the exporter to RestoreCells, then in the
# autograded notebook's metadata to the student's feedback page.
REPAIRS_KEY = "autograder_repairs"


@dataclass(frozen=True)
class Repair:
    """One thing the triage changed in a submission, for the grader's log and the student's page.

    ``kind`` is one of :data:`REPAIR_TEXTS`; ``cell`` the grade_id concerned, if any; ``detail``
    what nbformat objected to (log only: students get the catalogue's words).
    """

    kind: str
    cell: str = ""
    detail: str = ""

    def __str__(self) -> str:
        return REPAIR_TEXTS[self.kind].format(cell=self.cell, detail=self.detail[:120])

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "cell": self.cell}


REPAIR_TEXTS = {
    "invalid_file": "not a valid notebook ({detail}); graded the cells that could be read",
    "dropped_cell": "dropped a cell that could not be read",
    "restored_cell": "restored the deleted cell '{cell}'",
    "duplicate_cell": "kept a duplicate or unknown cell '{cell}' as plain code",
}


class Unreadable(Exception):
    """Nothing gradable could be recovered; the message is the recorded reason."""


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "".join(value)
    return None


def _raw_cells(document: Mapping[str, Any]) -> list[Any]:
    cells = document.get("cells")
    if cells is None and isinstance(document.get("worksheets"), list):  # nbformat 3
        cells = [c for ws in document["worksheets"] if isinstance(ws, Mapping)
                 for c in (ws.get("cells") or []) if isinstance(ws.get("cells"), list)]
    return cells if isinstance(cells, list) else []


def salvage(raw: bytes) -> tuple[NotebookNode, list[Repair]]:
    """A clean notebook from ``raw``, and what had to be dropped."""
    if not raw.strip():
        raise Unreadable("the file is empty")
    if len(raw) > MAX_BYTES:
        raise Unreadable(f"the file is larger than {MAX_BYTES // 2**20} MiB")
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise Unreadable("the file is not a notebook (not valid JSON)") from None
    if not isinstance(document, Mapping):
        raise Unreadable("the file is not a notebook (JSON, but not a notebook object)")
    notes: list[Repair] = []
    cells = []
    for raw_cell in _raw_cells(document):
        kind = raw_cell.get("cell_type") if isinstance(raw_cell, Mapping) else None
        source = _text(raw_cell.get("source", raw_cell.get("input"))) if isinstance(raw_cell, Mapping) else None
        if kind not in _NEW_CELL or source is None:
            notes.append(Repair("dropped_cell"))
            continue
        cell = _NEW_CELL[kind](source)
        meta = raw_cell.get("metadata")
        if isinstance(meta, Mapping) and isinstance(meta.get("nbgrader"), Mapping):
            cell.metadata["nbgrader"] = json.loads(json.dumps(meta["nbgrader"], default=str))
        cells.append(cell)
    if not cells:
        raise Unreadable("the notebook has no readable cells")
    return new_notebook(cells=cells), notes


def read_submission(stream: IO[bytes]) -> tuple[NotebookNode, list[Repair]]:
    """The notebook in ``stream`` and what had to be repaired to read it.

    A valid notebook (any nbformat that nbformat converts to 4) is returned exactly as
    nbformat reads it, with no notes, so an intact submission is graded as plain nbgrader
    grades it. Anything else goes through :func:`salvage`. At most :data:`MAX_BYTES` + 1
    bytes are read: a huge file is rejected without being loaded.
    """
    raw = stream.read(MAX_BYTES + 1)
    if not raw.strip() or len(raw) > MAX_BYTES:
        return salvage(raw)  # raises Unreadable with the reason
    problem: dict[str, Exception] = {}
    try:
        with warnings.catch_warnings():  # nbformat fixes missing and duplicate cell ids, and warns
            warnings.simplefilter("ignore", MissingIDFieldWarning)
            warnings.simplefilter("ignore", DuplicateCellId)
            nb = nbformat.reads(raw.decode("utf-8"), as_version=4, capture_validation_error=problem)
        if not problem:
            return nb, []
        why = problem["ValidationError"].message
    except Exception as exc:  # noqa: BLE001 - nbformat raises many kinds; the salvage decides
        why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    nb, notes = salvage(raw)
    return nb, [Repair("invalid_file", detail=why), *notes]


def log_repairs(log: logging.Logger | logging.LoggerAdapter, student: str, notes: Iterable[Repair]) -> None:
    """Log each repair in the one format the bulk grader reads back (:data:`REPAIRED`)."""
    for note in notes:
        log.warning("%s %s: %s", REPAIRED, student, note)


def _grade_id(cell: NotebookNode) -> str | None:
    meta = cell.metadata.get("nbgrader")
    grade_id = meta.get("grade_id") if isinstance(meta, Mapping) else None
    return grade_id if isinstance(grade_id, str) else None


@dataclass
class _Layout:
    answers: dict[str, NotebookNode] = field(default_factory=dict)
    extras: dict[str | None, list[NotebookNode]] = field(default_factory=dict)


def restore_cells(student: NotebookNode, release: NotebookNode) -> tuple[NotebookNode, list[Repair]]:
    """The student's notebook with the release's marked cells each present once, in order.

    A marked cell is one with an nbgrader ``grade_id``. For each, the student's first cell with
    that id is kept (OverwriteCells later restores locked content from the gradebook); a missing
    one is taken from the release. Duplicates and unmarked cells the student added stay, as
    plain cells, after the marked cell they followed, so split answers still run.
    """
    order = [gid for gid in map(_grade_id, release.cells) if gid]
    release_cells = {_grade_id(c): c for c in release.cells if _grade_id(c)}
    layout, anchor, notes = _Layout(), None, []
    for cell in student.cells:
        gid = _grade_id(cell)
        if gid in release_cells and gid not in layout.answers:
            layout.answers[gid] = cell
            anchor = gid
            continue
        if "nbgrader" in cell.metadata:  # a duplicate, or metadata nbgrader cannot use
            cell = nbformat.from_dict({**cell, "metadata": {k: v for k, v in cell.metadata.items() if k != "nbgrader"}})
            if gid is not None:
                notes.append(Repair("duplicate_cell", gid))
        layout.extras.setdefault(anchor, []).append(cell)
    cells = list(layout.extras.get(None, []))
    for gid in order:
        if gid not in layout.answers:
            notes.append(Repair("restored_cell", gid))
        cells.append(layout.answers.get(gid, release_cells[gid]))
        cells.extend(layout.extras.get(gid, []))
    nb = new_notebook(cells=[nbformat.from_dict(dict(c)) for c in cells], metadata=dict(release.metadata))
    for index, cell in enumerate(nb.cells):  # fresh, unique ids: duplicates break nbformat 4.5
        cell["id"] = f"cell-{index}"
    return nb, notes
