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
  the release appears exactly once, in the release's order, with the release's type and
  metadata (a flipped ``solution`` or ``grade`` flag, changed points or checksum are undone);
  the student's answer cells and any cells they added are kept next to the cell they followed.
"""

from __future__ import annotations

import copy
import json
import logging
import warnings
from collections.abc import Callable, Iterable, Mapping
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
    "restored_metadata": "took the type and nbgrader metadata of cell '{cell}' from the release",
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


def _locked(cell: NotebookNode) -> bool:
    meta = cell.metadata.get("nbgrader")
    return isinstance(meta, Mapping) and meta.get("locked") is True


# How strongly a student cell stands for a release cell, best first: its grade_id and cell id; its
# grade_id and, for a locked cell, the release's source; its cell id alone (nbformat 4.5 ids survive
# an edit of the metadata, so a renamed or swapped grade_id is still recognised); its grade_id alone
# (a copy pasted in place of the original).
_TIERS: tuple[Callable[[NotebookNode, str, NotebookNode], bool], ...] = (
    lambda cell, gid, rel: _grade_id(cell) == gid and cell.get("id") == rel.get("id"),
    lambda cell, gid, rel: _grade_id(cell) == gid and _locked(rel) and cell.source == rel.source,
    lambda cell, gid, rel: cell.get("id") is not None and cell.get("id") == rel.get("id"),
    lambda cell, gid, rel: _grade_id(cell) == gid,
)


def _match(student: list[NotebookNode], release: Mapping[str, NotebookNode]) -> dict[int, str]:
    """Which student cell stands for which release cell: student cell index -> grade_id.

    Each release cell gets at most one student cell and each student cell at most one release
    cell; a better tier is settled for every cell before a weaker one is tried.
    """
    matched: dict[int, str] = {}
    for tier in _TIERS:
        for gid, rel in release.items():
            if gid in matched.values():
                continue
            index = next((i for i, cell in enumerate(student) if i not in matched and tier(cell, gid, rel)), None)
            if index is not None:
                matched[index] = gid
    return matched


def _nbgrader_view(cell: NotebookNode) -> str:
    """The nbgrader metadata and type of a cell as compared with the release (points as numbers)."""
    meta = cell.metadata.get("nbgrader")
    if isinstance(meta, Mapping):
        meta = {k: float(v) if k == "points" and isinstance(v, (int, float)) and not isinstance(v, bool) else v
                for k, v in meta.items()}
    return json.dumps([cell.cell_type, meta], sort_keys=True, default=str)


def _as_release(cell: NotebookNode, rel: NotebookNode) -> NotebookNode:
    """The student's ``cell`` with the release cell's type and metadata (nbgrader's included).

    Every value nbgrader or nbclient reads from a cell's metadata comes from the release: the
    grade, solution and locked flags, points, grade_id, checksum and schema version, and the
    tags (``skip-execution`` would make nbclient skip a test cell, which nbgrader scores full).
    """
    if cell.cell_type == rel.cell_type:
        kept = nbformat.from_dict(dict(cell))
    else:
        kept = _NEW_CELL[rel.cell_type](cell.source)
    kept["metadata"] = nbformat.from_dict(copy.deepcopy(dict(rel.metadata)))
    return kept


def restore_cells(student: NotebookNode, release: NotebookNode) -> tuple[NotebookNode, list[Repair]]:
    """The student's notebook with the release's marked cells each present once, in order.

    A marked cell is one with an nbgrader ``grade_id``. For each, the student cell that stands
    for it (:func:`_match`: by grade_id and cell id, see :data:`_TIERS`) is
    kept with the release's type and metadata, whatever the student's copy said (OverwriteCells
    later restores locked content from the gradebook); a missing one is taken from the release.
    Duplicates and unmarked cells the student added stay, as plain cells without nbgrader
    metadata, after the marked cell they followed, so split answers still run.
    """
    order = [gid for gid in map(_grade_id, release.cells) if gid]
    release_cells = {_grade_id(c): c for c in release.cells if _grade_id(c)}
    matched = _match(list(student.cells), release_cells)
    layout, anchor, notes = _Layout(), None, []
    for index, cell in enumerate(student.cells):
        gid = _grade_id(cell)
        if index in matched:
            anchor = matched[index]
            rel = release_cells[anchor]
            layout.answers[anchor] = _as_release(cell, rel)
            if _nbgrader_view(cell) != _nbgrader_view(rel):
                notes.append(Repair("restored_metadata", anchor))
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
