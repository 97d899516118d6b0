"""Damaged submission files through the real grader: readable answers earn credit, the rest a zero.

``test_triage`` shows, without a kernel, that any damaged file is either salvaged into a
gradable notebook or rejected with a reason. Here damaged files go through the bulk grader
(nbgrader's Autograde with ``SalvagingExporter``) and plain ``nbgrader autograde``, and each must
end with the points its surviving answers earn and a recorded reason.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograder import course, messages
from autograder.bulk import BatchOptions, grade_assignment
from autograder.bulk.outcome import Status
from autograder.feedback.report import write_report
from autograder.spec import CHECK_POINTS
from bulk_support import fresh_course
from test_feedback import page_text, squash
from test_report import _table

FULL = sum(CHECK_POINTS.values())
PRACTICE12_CHECKS = ("check_argmax_axis", "check_accuracy_score")

Document = dict


def _cell(document: Document, grade_id: str) -> dict:
    return next(c for c in document["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == grade_id)


def _first_markdown(document: Document) -> dict:
    return next(c for c in document["cells"] if c["cell_type"] == "markdown")


def _nbformat_3(document: Document) -> Document:
    cells = [{"cell_type": "code", "input": c["source"], "metadata": c["metadata"], "outputs": [],
              "language": "python"} if c["cell_type"] == "code"
             else {"cell_type": c["cell_type"], "source": c["source"], "metadata": c["metadata"]}
             for c in document["cells"]]
    return {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": cells}]}


@dataclass(frozen=True)
class Damaged:
    name: str
    damage: Callable[[Document], Document | bytes]
    status: Status
    score: float
    reason: str  # the whole reason for a zero, or a fragment of the repair notes ("" = none)


def _mutated(change: Callable[[Document], object]) -> Callable[[Document], Document]:
    def damage(document: Document) -> Document:
        change(document)
        return document
    return damage


CASES = [
    Damaged("d_intact", _mutated(lambda d: None), Status.GRADED, FULL, ""),
    Damaged("d_nbformat3", _nbformat_3, Status.GRADED, FULL, ""),  # valid: nbformat converts it
    Damaged("d_markdown_without_source", _mutated(lambda d: _first_markdown(d).pop("source")),
            Status.GRADED, FULL, "'source' is a required property"),
    Damaged("d_nbformat5", _mutated(lambda d: d.update(nbformat=5)), Status.GRADED, FULL,
            "Unsupported nbformat version 5"),
    Damaged("d_null_in_cells", _mutated(lambda d: d["cells"].insert(2, None)), Status.GRADED, FULL,
            "dropped a cell that could not be read"),
    # The answer's nbgrader metadata is lost: its code still runs, just before the restored stub.
    Damaged("d_answer_metadata_null", _mutated(lambda d: _cell(d, "practice10").update(metadata=None)),
            Status.GRADED, FULL, "restored the deleted cell 'practice10'"),
    # The Practice 12 answer itself is unreadable: the stub comes back and its two checks fail.
    Damaged("d_answer_without_source", _mutated(lambda d: _cell(d, "practice12").pop("source")),
            Status.GRADED, FULL - sum(CHECK_POINTS[c] for c in PRACTICE12_CHECKS),
            "restored the deleted cell 'practice12'"),
    Damaged("d_empty", lambda d: b"", Status.FAILED, 0,
            f"unreadable notebook {course.NOTEBOOK}: the file is empty"),
    Damaged("d_binary", lambda d: b"\x89PNG\r\n\x1a\n\x00garbage", Status.FAILED, 0,
            f"unreadable notebook {course.NOTEBOOK}: the file is not a notebook (not valid JSON)"),
    Damaged("d_truncated", lambda d: json.dumps(d).encode()[:5000], Status.FAILED, 0,
            f"unreadable notebook {course.NOTEBOOK}: the file is not a notebook (not valid JSON)"),
]


def _write(root: Path, case: Damaged, solved: nbformat.NotebookNode) -> None:
    path = course.submit(root, case.name, solved)
    damaged = case.damage(json.loads(nbformat.writes(solved)))
    path.write_bytes(damaged if isinstance(damaged, bytes) else json.dumps(damaged).encode())


@pytest.fixture(scope="module")
def damaged_class(released_course, tmp_path_factory):
    root = fresh_course(released_course, tmp_path_factory.mktemp("damaged") / "course")
    solved = course.fill_answers(course.release_notebook(root), course.solution_answers())
    for case in CASES:
        _write(root, case, solved)
    submitted = {case.name: (root / "submitted" / case.name / course.ASSIGNMENT / course.NOTEBOOK).read_bytes()
                 for case in CASES}
    report = grade_assignment(BatchOptions(root=root, workers=2, progress=io.StringIO()))
    return root, report, submitted


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_each_damaged_file_gets_the_points_its_readable_answers_earn(damaged_class, case):
    root, report = damaged_class[0], damaged_class[1]
    row = next(r for r in report.rows if r.student == case.name)
    assert (row.status, row.score) == (case.status, case.score), row.reason
    if case.status is Status.FAILED:
        assert row.reason == case.reason
    elif case.reason:
        assert row.reason.startswith("repaired: ") and case.reason in row.reason
    else:
        assert row.reason == ""
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:  # recorded, zero included
        assert gb.find_submission(course.ASSIGNMENT, case.name).score == case.score


def test_the_batch_finishes_and_the_submitted_files_are_kept_as_they_were(damaged_class):
    root, report, submitted = damaged_class
    assert report.exit_code == 0 and not report.interrupted
    for student, raw in submitted.items():
        assert (root / "submitted" / student / course.ASSIGNMENT / course.NOTEBOOK).read_bytes() == raw


def test_plain_nbgrader_autograde_salvages_with_the_course_config(damaged_class, tmp_path):
    """The exporter is configured in nbgrader_config.py, so instructors without the bulk grader get it too."""
    released = damaged_class[0]
    root = fresh_course(released, tmp_path / "course")
    case = next(c for c in CASES if c.name == "d_answer_without_source")
    _write(root, case, course.fill_answers(course.release_notebook(root), course.solution_answers()))
    result = course.run_nbgrader(root, "autograde", course.ASSIGNMENT, "--create", "--student", case.name)
    assert f"Repaired the submission of {case.name}: restored the deleted cell 'practice12'" in result.stdout + result.stderr
    scores = {gid: r.score for gid, r in course.autograded_results(root, case.name).items()}
    assert scores == {gid: 0 if gid in PRACTICE12_CHECKS else points for gid, points in CHECK_POINTS.items()}


def test_the_class_report_gives_the_recorded_reason_of_each_zero(damaged_class, tmp_path):
    root = damaged_class[0]
    html = write_report(root, tmp_path / "class_report.html").read_text(encoding="utf-8")
    rows = dict(_table(html, "ungraded")[1:])
    zeros = [c for c in CASES if c.status is Status.FAILED]
    assert set(rows) == {c.name for c in zeros}
    for case in zeros:
        assert rows[case.name] == squash(messages.text("report.ungraded.recorded_zero", "ja", error=case.reason))


@pytest.fixture(scope="module")
def feedback_pages(damaged_class) -> dict[str, str]:
    root = damaged_class[0]
    course.run_nbgrader(root, "generate_feedback", course.ASSIGNMENT, "--force")
    pages = root / "feedback"
    return {p.parts[-3]: p.read_text(encoding="utf-8") for p in pages.glob(f"*/{course.ASSIGNMENT}/*.html")}


def _repair(kind: str, **fields: str) -> str:
    return squash(messages.text(f"repair.{kind}", "ja", **fields))


def test_the_feedback_page_tells_the_student_what_was_repaired(feedback_pages):
    lost_answer = page_text(feedback_pages["d_answer_without_source"])
    assert squash(messages.text("feedback.repairs_intro", "ja")) in lost_answer
    for line in (_repair("invalid_file"), _repair("dropped_cell"), _repair("restored_answer", cell="練習12")):
        assert line in lost_answer
    moved_answer = page_text(feedback_pages["d_answer_metadata_null"])
    assert _repair("restored_answer", cell="練習10") in moved_answer
    assert _repair("dropped_cell") not in moved_answer


def test_an_intact_notebook_gets_no_repair_section(feedback_pages):
    assert set(feedback_pages) == {c.name for c in CASES if c.status is Status.GRADED}
    for name in ("d_intact", "d_nbformat3"):
        assert 'id="repairs"' not in feedback_pages[name]
        assert squash(messages.text("feedback.repairs", "ja")) not in page_text(feedback_pages[name])
