"""The bulk grader records exactly what plain, sequential ``nbgrader autograde`` records.

Two copies of the same course get the same submissions (with nbgrader's timestamp.txt, one of
them late, under a late-penalty policy, so every gradebook column autograding writes is
exercised). One copy is graded by ``nbgrader autograde --student X``, one student after the
other; the other by the bulk grader on its own local Dask cluster of two worker processes, with
forked kernels. Every gradebook row and every autograded notebook must be the same, up to what
differs between any two nbgrader runs (execution timestamps, progress-bar timings, pids).
"""

from __future__ import annotations

import io

from nbgrader.api import Gradebook

from autograder import course
from autograder.bulk import BatchOptions, grade_assignment
from autograder.bulk.outcome import Status
from autograder.sample_class import sample_class
from bulk_support import fresh_course, gradebook_tables, normalized_notebook, submit

DUE = "2026-01-10 12:00:00"
# student -> (answers, submission time): a correct one, one with several failing checks (and
# late), and the untouched stub.
SUBMISSIONS = {
    "s01_correct": ("s01_correct", "2026-01-09 10:00:00.000000 UTC"),
    "s04_dense1": ("s04_dense1", "2026-01-11 08:30:00.000000 UTC"),
    "s08_blank": ("s08_blank", "2026-01-10 11:59:00.000000 UTC"),
}


def _prepare(root):
    with (root / "nbgrader_config.py").open("a") as config:
        config.write('\nc.LateSubmissionPlugin.penalty_method = "zero"\n')
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        gb.update_or_create_assignment(course.ASSIGNMENT, duedate=DUE)
    sample = sample_class()
    for student, (answers, timestamp) in SUBMISSIONS.items():
        submit(root, student, sample[answers], timestamp)
    return root


def test_bulk_grader_records_what_sequential_nbgrader_records(released_course, tmp_path):
    plain = _prepare(fresh_course(released_course, tmp_path / "plain"))
    bulk = _prepare(fresh_course(released_course, tmp_path / "bulk"))

    course.autograde(plain, list(SUBMISSIONS))  # nbgrader autograde --student X, one at a time
    report = grade_assignment(BatchOptions(root=bulk, workers=2, progress=io.StringIO()))

    assert {r.student: r.status for r in report.rows} == dict.fromkeys(SUBMISSIONS, Status.GRADED)
    assert report.exit_code == 0
    plain_rows, bulk_rows = gradebook_tables(plain / "gradebook.db"), gradebook_tables(bulk / "gradebook.db")
    assert plain_rows == bulk_rows
    penalties = [dict(row)["late_submission_penalty"] for row in plain_rows["submitted_notebook"]]
    assert sorted(penalties, key=str) == [5.0, None, None]  # the late one lost its 5 points
    for student in SUBMISSIONS:
        plain_dir = plain / "autograded" / student / course.ASSIGNMENT
        bulk_dir = bulk / "autograded" / student / course.ASSIGNMENT
        assert sorted(p.name for p in plain_dir.iterdir()) == sorted(p.name for p in bulk_dir.iterdir())
        assert normalized_notebook(plain_dir / course.NOTEBOOK) == normalized_notebook(bulk_dir / course.NOTEBOOK)
