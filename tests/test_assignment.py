"""The assignment end to end through real nbgrader: release, full marks, zero, lost points."""

from __future__ import annotations

import json

import nbformat
import pytest

from autograder import course
from autograder.spec import CHECK_POINTS, SOLUTION_CELLS
from corpus import CASES, SOURCE_NOTEBOOK

COMMITTED_RELEASE = course.REPO_ROOT / "release" / course.ASSIGNMENT / course.NOTEBOOK
FULL_MARKS = sum(CHECK_POINTS.values())


def _grade_ids(nb: nbformat.NotebookNode) -> list[str]:
    return [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]


def test_committed_release_is_what_generate_assignment_produces(released_course):
    regenerated = released_course / "release" / course.ASSIGNMENT / course.NOTEBOOK
    assert json.loads(COMMITTED_RELEASE.read_text("utf-8")) == json.loads(regenerated.read_text("utf-8")), (
        "release/ is stale: run `nbgrader generate_assignment nn_basics --force` and commit it")


def test_release_contains_no_solution_or_hidden_test():
    text = COMMITTED_RELEASE.read_text("utf-8")
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "hidden=True"):
        assert marker not in text
    nb = nbformat.read(COMMITTED_RELEASE, as_version=4)
    solution_code = course.solution_answers()
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in SOLUTION_CELLS:
            assert "raise NotImplementedError()" in cell.source
            for line in solution_code[grade_id].splitlines():
                assert line.strip() not in cell.source or not line.strip()


def test_source_has_the_public_interface():
    nb = nbformat.read(course.REPO_ROOT / "source" / course.ASSIGNMENT / course.NOTEBOOK, as_version=4)
    ids = _grade_ids(nb)
    for cell_id in [*SOLUTION_CELLS, *CHECK_POINTS]:
        assert ids.count(cell_id) == 1, cell_id
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and cell.cell_type == "code":
            assert meta["points"] == CHECK_POINTS[meta["grade_id"]]
            visible, _, hidden = cell.source.partition("### BEGIN HIDDEN TESTS")
            assert f'verify("{meta["grade_id"]}", globals())' in visible
            assert f'verify("{meta["grade_id"]}", globals(), hidden=True)' in hidden


def test_source_notebook_autogrades_to_full_marks(graded_class):
    results = graded_class.results[SOURCE_NOTEBOOK]
    assert {k: r.score for k, r in results.items()} == {k: float(p) for k, p in CHECK_POINTS.items()}


def test_untouched_stub_gets_zero_without_crashing(graded_class):
    results = graded_class.results["s08_blank"]
    assert set(results) == set(CHECK_POINTS)
    assert sum(r.score for r in results.values()) == 0
    assert (graded_class.root / "autograded" / "s08_blank" / course.ASSIGNMENT / course.NOTEBOOK).exists()


@pytest.mark.parametrize("case", [c for c in CASES if c.expected_points() < FULL_MARKS], ids=lambda c: c.name)
def test_wrong_submission_loses_exactly_the_expected_points(graded_class, case):
    results = graded_class.results[case.name]
    lost = {c for c, r in results.items() if r.score < r.max_score}
    assert lost == {c for c, m in case.expected.items() if m is not None}
    assert sum(r.score for r in results.values()) == case.expected_points()
