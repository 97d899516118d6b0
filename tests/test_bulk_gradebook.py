"""Gradebook safety: six workers finish submissions at once while a TA's tool writes too.

A small assignment without TensorFlow keeps the grading itself cheap, so many outcomes arrive
close together: 36 submissions on a local Dask cluster of 6 worker processes. Meanwhile another
process keeps taking SQLite's write lock (as the formgrader or a TA's script would) to edit
student emails. Every grade must be recorded, every edit must survive, and SQLite must find
its file intact. The gradebook is read back with plain SQL.
"""

from __future__ import annotations

import io
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook
from nbgrader import api
from nbgrader.api import Gradebook

from autograder.bulk import BatchOptions, grade_assignment
from autograder.bulk.gradebook_rows import RowChanges, apply_changes, student_rows
from autograder.bulk.outcome import Status

pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")  # nbgrader's add_submission

ASSIGNMENT = "toy"
STUDENTS = 36
WORKERS = 6
# answer -> points: the equality check is worth 2, the type check 1.
ANSWERS = {"42": 3.0, "41": 1.0, "'forty-two'": 0.0}


def _cell(source: str, grade_id: str, *, solution: bool = False, points: int | None = None):
    meta = {"grade": points is not None, "solution": solution, "locked": not solution,
            "grade_id": grade_id, "schema_version": 3}
    if points is not None:
        meta["points"] = points
    return new_code_cell(source, metadata={"nbgrader": meta})


def _toy_course(root: Path) -> Path:
    source = root / "source" / ASSIGNMENT
    source.mkdir(parents=True)
    (root / "nbgrader_config.py").write_text('c = get_config()\nc.CourseDirectory.course_id = "toy"\n')
    nb = new_notebook(cells=[
        _cell("### BEGIN SOLUTION\nanswer = 42\n### END SOLUTION", "answer", solution=True),
        _cell("assert answer == 42", "equality", points=2),
        _cell("assert isinstance(answer, int)", "type", points=1),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nbformat.write(nb, source / f"{ASSIGNMENT}.ipynb")
    subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", ASSIGNMENT], cwd=root,
                   check=True, capture_output=True)
    release = nbformat.read(root / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    answers = list(ANSWERS)
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", "toy") as gb:
        for i in range(STUDENTS):
            student = f"st{i:02d}"
            gb.add_student(student, first_name=f"Student {i}", email=f"{student}@old.example")
            release.cells[0].source = f"answer = {answers[i % len(answers)]}"
            path = root / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
            path.parent.mkdir(parents=True)
            nbformat.write(release, path)
    return root


@pytest.fixture(scope="module")
def toy_template(tmp_path_factory) -> Path:
    return _toy_course(tmp_path_factory.mktemp("toy") / "course")


@pytest.fixture
def toy(toy_template, tmp_path) -> Path:
    return Path(shutil.copytree(toy_template, tmp_path / "toy"))


class _BusyTA(threading.Thread):
    """Holds SQLite's write lock for 0.3 s at a time, changing one student's email each time."""

    def __init__(self, db: Path) -> None:
        super().__init__(daemon=True)
        self.db, self.stop, self.edits = db, threading.Event(), 0

    def run(self) -> None:
        con = sqlite3.connect(self.db, timeout=60, isolation_level=None)
        while not self.stop.is_set():
            student = f"st{self.edits % STUDENTS:02d}"
            con.execute("BEGIN IMMEDIATE")
            con.execute("UPDATE student SET email = ? WHERE id = ?", (f"{student}@new.example", student))
            time.sleep(0.3)
            con.execute("COMMIT")
            self.edits += 1
            time.sleep(0.05)
        con.close()


def test_many_workers_and_a_busy_writer_lose_nothing(toy):
    root = toy
    db = root / "gradebook.db"
    ta = _BusyTA(db)
    ta.start()
    try:
        report = grade_assignment(BatchOptions(root=root, assignment=ASSIGNMENT, workers=WORKERS,
                                               progress=io.StringIO()))
    finally:
        ta.stop.set()
        ta.join()
    assert [r.status for r in report.rows] == [Status.GRADED] * STUDENTS
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    scores = dict(con.execute("""
        SELECT sa.student_id, SUM(g.auto_score) FROM grade g
        JOIN submitted_notebook sn ON sn.id = g.notebook_id
        JOIN submitted_assignment sa ON sa.id = sn.assignment_id GROUP BY sa.student_id"""))
    expected = {f"st{i:02d}": list(ANSWERS.values())[i % len(ANSWERS)] for i in range(STUDENTS)}
    assert scores == expected
    assert {r.student: r.score for r in report.rows} == expected
    emails = dict(con.execute("SELECT id, email FROM student"))
    edited = {f"st{i % STUDENTS:02d}" for i in range(ta.edits)}
    assert ta.edits > 0 and all(emails[s].endswith("@new.example") for s in edited)
    assert con.execute("SELECT COUNT(*) FROM grade").fetchone() == (STUDENTS * 2,)


def test_applying_changes_keeps_columns_the_pipeline_did_not_touch(toy):
    """A TA's manual grade entered while a submission is being graded survives the merge."""
    url = f"sqlite:///{toy / 'gradebook.db'}"
    with Gradebook(url, "toy") as gb:
        gb.add_submission(ASSIGNMENT, "st00")
        before = student_rows(gb, ASSIGNMENT, "st00")
        after = student_rows(gb, ASSIGNMENT, "st00")
        after["submission"]["notebooks"][ASSIGNMENT]["grades"]["equality"]["auto_score"] = 2.0  # the worker's result
        gb.find_grade("equality", ASSIGNMENT, ASSIGNMENT, "st00").manual_score = 1.5  # the TA, meanwhile
        gb.db.commit()
        apply_changes(gb, ASSIGNMENT, "st00", RowChanges(before, after, ()))
        grade = gb.find_grade("equality", ASSIGNMENT, ASSIGNMENT, "st00")
        assert (grade.auto_score, grade.manual_score) == (2.0, 1.5)


@pytest.mark.parametrize("existing", [False, True])
def test_applying_changes_creates_what_is_missing(toy, existing):
    url = f"sqlite:///{toy / 'gradebook.db'}"
    with Gradebook(url, "toy") as gb:
        gb.add_submission(ASSIGNMENT, "st01")
        gb.find_grade("type", ASSIGNMENT, ASSIGNMENT, "st01").auto_score = 1.0
        gb.db.commit()
        after = student_rows(gb, ASSIGNMENT, "st01")
        if not existing:
            gb.remove_student("st01")
            gb.add_student("st01")
        apply_changes(gb, ASSIGNMENT, "st01", RowChanges(None, after, ("default_course",)))
        assert gb.find_grade("type", ASSIGNMENT, ASSIGNMENT, "st01").auto_score == 1.0
        assert gb.find_student("st01").email == "st01@old.example"
        assert "default_course" in {c.id for c in gb.db.query(api.Course)}
