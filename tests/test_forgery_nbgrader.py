"""The forgery cases through plain ``nbgrader autograde``: the same points and flags as in bulk.

``nbgrader_config.py`` puts the grader's preprocessors into nbgrader's own chain, so a course that
never uses the bulk grader is defended too. One nbgrader run grades every case; it must end
without an error (a forged partial credit used to crash SaveAutoGrades, a flipped flag used to
stop the run with "Inconsistent checksums").
"""

from __future__ import annotations

import pytest
from nbgrader.api import Gradebook

from autograder import course
from bulk_support import fresh_course
from hostile_forgery import NBGRADER_CASES

# nbclient waits this long for a cell's last messages after its reply (default 4 s, and nbgrader
# fails the whole submission when it runs out); a machine busy with other tests can take longer.
IOPUB_TIMEOUT = 120


@pytest.fixture(scope="module")
def nbgrader_graded(released_course, tmp_path_factory):
    root = fresh_course(released_course, tmp_path_factory.mktemp("forgery-nbgrader") / "course")
    with (root / "nbgrader_config.py").open("a") as config:
        # The course's cell timeout stays: every kernel imports TensorFlow afresh here.
        config.write(f"\nc.Execute.iopub_timeout = {IOPUB_TIMEOUT}\n")
    release = course.release_notebook(root)
    for case in NBGRADER_CASES:
        nb = course.fill_answers(release, case.answers)
        if case.mutate:
            case.mutate(nb)
        course.submit(root, case.name, nb)
    course.autograde(root)  # raises CourseError, with nbgrader's log, if the run failed
    return root


@pytest.mark.parametrize("case", NBGRADER_CASES, ids=lambda c: c.name)
def test_plain_nbgrader_gives_the_clean_verdicts_points(nbgrader_graded, case):
    results = course.autograded_results(nbgrader_graded, case.name)
    got = {check: (r.score == r.max_score, r.verdict.mistake_id if r.verdict else "no verdict")
           for check, r in results.items()}
    assert got == {check: (mistake is None, mistake) for check, mistake in case.expected.items()}
    assert sum(r.score for r in results.values()) == case.expected_points()
    assert sum(r.max_score for r in results.values()) == 15


@pytest.mark.parametrize("case", NBGRADER_CASES, ids=lambda c: c.name)
def test_plain_nbgrader_flags_exactly_the_forged_outputs(nbgrader_graded, case):
    with Gradebook(f"sqlite:///{nbgrader_graded / 'gradebook.db'}") as gb:
        notebook = gb.find_submission_notebook(course.ASSIGNMENT, course.ASSIGNMENT, case.name)
        assert notebook.flagged == case.flagged
