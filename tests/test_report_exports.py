"""``python -m autograder export`` on the graded corpus: nbgrader's CSV, per-check CSV, Gradescope JSON."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import course, messages
from autograder.feedback.exports import CHECK_COLUMNS, write_gradescope
from autograder.feedback.outcomes import MISSING, ClassOutcomes, Ungraded
from autograder.spec import CHECK_POINTS

from test_feedback import expected_advice, expected_mistake

NBGRADER_COLUMNS = ["assignment", "duedate", "timestamp", "student_id", "last_name", "first_name", "email",
                    "raw_score", "late_submission_penalty", "score", "max_score"]


@pytest.fixture(scope="module")
def exports(graded_class, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("exports")
    proc = subprocess.run([sys.executable, "-m", "autograder", "export", "--course", str(graded_class.root),
                           "--output-dir", str(out)], capture_output=True, text=True, timeout=300,
                          env=course.grading_env())
    assert proc.returncode == 0, proc.stderr
    assert f"Gradescope:    {out / 'gradescope'}/<student>/results.json ({len(graded_class.results)} students)" \
        in proc.stdout
    return out


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_grades_csv_is_nbgraders_own_export(exports, graded_class):
    with (exports / "grades.csv").open(encoding="utf-8", newline="") as f:
        assert next(csv.reader(f)) == NBGRADER_COLUMNS
    rows = {r["student_id"]: r for r in _rows(exports / "grades.csv")}
    assert set(rows) == set(graded_class.results)
    for student, results in graded_class.results.items():
        assert float(rows[student]["score"]) == sum(r.score for r in results.values())
        assert float(rows[student]["max_score"]) == sum(CHECK_POINTS.values())


def test_checks_csv_has_one_row_per_student_and_check(exports, graded_class):
    rows = _rows(exports / "checks.csv")
    assert list(rows[0]) == list(CHECK_COLUMNS)
    assert len(rows) == len(graded_class.results) * len(CHECK_POINTS)
    for row in rows:
        result = graded_class.results[row["student"]][row["check_id"]]
        passed = result.score == result.max_score
        assert (float(row["score"]), float(row["max_score"]), row["passed"]) == \
            (result.score, result.max_score, str(int(passed)))
        assert row["mistake_id"] == ("" if passed else expected_mistake(result))


def test_gradescope_results_per_student(exports, graded_class):
    for student, results in graded_class.results.items():
        data = json.loads((exports / "gradescope" / student / "results.json").read_text(encoding="utf-8"))
        assert data["score"] == sum(r.score for r in results.values())
        assert [t["name"] for t in data["tests"]] == [messages.title(c, "ja") for c in CHECK_POINTS]
        for test, check_id in zip(data["tests"], CHECK_POINTS):
            result = results[check_id]
            assert set(test) == {"name", "score", "max_score", "status", "output", "visibility"}
            assert (test["score"], test["max_score"], test["visibility"]) == (result.score, result.max_score, "visible")
            if result.score == result.max_score:
                assert test["status"] == "passed"
            else:
                problem, hint = expected_advice(result, "ja")
                assert test["status"] == "failed" and problem in test["output"] and hint in test["output"]


def test_gradescope_result_of_an_ungraded_submission_scores_zero_and_says_why(tmp_path):
    [path] = write_gradescope(ClassOutcomes([], [Ungraded("late_student", MISSING)]), tmp_path, "en")
    assert path == tmp_path / "late_student" / "results.json"
    assert json.loads(path.read_text(encoding="utf-8")) == {
        "score": 0, "output": messages.text("feedback.not_graded", "en"), "tests": []}
