"""Telling a broken grading environment from a student's mistake.

The release's given cells (imports, data loading, label conversion) are locked: nbgrader puts
the instructor's code back before grading, so when one of them fails in the grading kernel,
the cause is the grading machine (the package not importable inside the sandbox, a missing
data file), not the student's answer. Such a submission must not get a zero: nothing is
recorded, the batch exits non-zero and says what to fix.

A student must not be able to earn "not graded" by breaking a given cell on purpose (a cell
added before the imports that poisons ``sys.modules``, a ``numpy.py`` beside the notebook).
So a failing given cell counts as the environment's only when *nothing of the student's* ran
or was importable before it: every code cell above it is either a given cell with the
release's source or a cell whose source is exactly one of the release's own unlocked cells,
and the folder holds no file beside the notebooks and ``timestamp.txt``. Anything else is the
student's own doing and is graded as usual (the failing cells earn nothing).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from ..submission_folder import TIMESTAMP, Listing

# What to fix, per given cell of this lesson's release; other given cells get the generic text.
_WHAT_TO_FIX = {
    "setup": "make the packages the notebook imports (TensorFlow, scikit-learn, autograder) importable "
             "in the grading kernel; the sandbox hides the course folder, so install them outside it",
    "load_data": "make the MNIST data readable by the grading kernel (AUTOGRADER_MNIST or MNIST_PATH in "
                 "nbgrader_config.py, or the sample cache)",
    "labels": "check the data the grading kernel loads: its labels cannot be converted to integers",
}
_GENERIC_FIX = "fix the grading environment"


@dataclass(frozen=True)
class ReleaseCells:
    """The release's code the student cannot have written: given cells and free starter cells."""

    given: dict[str, str] = field(default_factory=dict)  # grade_id of a locked given cell -> source
    free: frozenset[str] = frozenset()  # sources of the release's unlocked cells without nbgrader metadata


def release_cells(notebooks: Iterable[Path]) -> ReleaseCells:
    """Read the release notebooks' given and free code cells."""
    given: dict[str, str] = {}
    free: set[str] = set()
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            meta = cell.metadata.get("nbgrader")
            if not meta:
                free.add(cell.source)
            elif _is_given(meta):
                given[meta["grade_id"]] = cell.source
    return ReleaseCells(given, frozenset(free))


def given_cell_failure(staged: Path, release: ReleaseCells, listing: Listing) -> str:
    """Why grading this autograded submission says the environment is broken, or ""."""
    if not release.given or _student_files(listing):
        return ""
    for path in sorted(staged.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type != "code" or not cell.source.strip():
                continue
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in release.given and cell.source == release.given[grade_id]:
                error = _first_error(cell.get("outputs", []))
                if error:
                    return environment_reason(grade_id, error)
            elif cell.source not in release.free:
                break  # the student's code ran from here on: what fails is graded as theirs
    return ""


def environment_reason(grade_id: str, error: str) -> str:
    """The one line an instructor reads: which given cell failed, with what, and what to fix."""
    fix = _WHAT_TO_FIX.get(grade_id, _GENERIC_FIX)
    return (f"grading environment broken, not a student mistake: the given cell {grade_id!r} failed in the "
            f"grading kernel ({error}); {fix}, then grade again")


def pipeline_reason(error: str) -> str:
    """The one line for a released notebook that nbgrader could not grade at all (the probe).

    The grader's own side (the clean-process verdict) loads the data and imports the package
    too, so the error names what is missing; the fix is chosen from its exception name.
    """
    if "DataError" in error or "FileNotFoundError" in error:
        fix = _WHAT_TO_FIX["load_data"]
    elif "ModuleNotFoundError" in error or "ImportError" in error:
        fix = _WHAT_TO_FIX["setup"]
    else:
        fix = _GENERIC_FIX
    return (f"grading environment broken, not a student mistake: the released notebook could not be "
            f"graded ({error}); {fix}, then grade again")


def _is_given(meta: Mapping) -> bool:
    return bool(meta.get("locked")) and not meta.get("solution") and not meta.get("grade") and bool(meta.get("grade_id"))


def _student_files(listing: Listing) -> list[str]:
    return [rel for rel, _ in listing.accepted if rel not in listing.notebooks and rel != TIMESTAMP]


def _first_error(outputs: Iterable[Mapping]) -> str:
    for out in outputs:
        if out.get("output_type") == "error":
            return f"{out.get('ename', 'Error')}: {str(out.get('evalue', ''))[:200]}".rstrip(": ")
    return ""
