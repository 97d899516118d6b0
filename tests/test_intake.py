"""Intake: an LMS zip through ``python -m autograder intake``, and the nbgrader exchange round trip.

Both must end with the notebook at ``submitted/<student>/nn_basics/nn_basics.ipynb``, where
``nbgrader autograde`` looks for it. The zips are built here with the names Moodle and Canvas
give their downloads.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbgrader.plugins import FileNameCollectorPlugin

from autograder import course, intake
from autograder.sample_class import sample_class
from autograder.spec import ASSIGNMENT, CHECK_POINTS, NOTEBOOK

COURSE_ID = "nn-basics"  # nbgrader_config.py
# The sample class's correct answer (graded once here, to full marks) and its untouched stub.
CORRECT, BLANK = "s01_correct", "s08_blank"


def _course(root: Path) -> Path:
    """A course with the committed release (identical to a fresh one, see test_assignment)."""
    course.create_course(root)
    shutil.copytree(course.REPO_ROOT / "release", root / "release")
    return root


def _notebook(student: str) -> str:
    """The sample student's answers in the committed release, as the student would upload it."""
    release = nbformat.read(course.REPO_ROOT / "release" / ASSIGNMENT / NOTEBOOK, as_version=4)
    return nbformat.writes(course.fill_answers(release, sample_class()[student]))


def _zip(path: Path, members: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in members.items():
            zf.writestr(name, text)
    return path


def _intake(root: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "autograder", "intake", *map(str, args), "--course", str(root)],
                          env=course.grading_env(), capture_output=True, text=True, timeout=300)


def _tree(root: Path) -> dict[str, bytes | None]:
    """Every path under ``root`` with its content (None for folders), to prove nothing changed."""
    return {str(p.relative_to(root)): p.read_bytes() if p.is_file() else None for p in sorted(root.rglob("*"))}


def _submitted(root: Path, student: str) -> Path:
    return root / "submitted" / student / ASSIGNMENT / NOTEBOOK


# --- The file-name pattern, as nbgrader's own collector plugin applies it --------------------

@pytest.mark.parametrize(("name", "student"), [
    ("Taro Yamada_12345_assignsubmission_file_nn_basics.ipynb", "12345"),           # Moodle
    ("Taro Yamada_12345_assignsubmission_file_/nn_basics.ipynb", "12345"),          # Moodle, folders
    ("山田 太郎_777_assignsubmission_file_nn_basics.ipynb", "777"),                  # any name
    ("yamadataro_12345_67890_nn_basics.ipynb", "12345"),                            # Canvas
    ("yamadataro_late_12345_67890_nn_basics.ipynb", "12345"),                       # Canvas, late
    ("yamadataro_12345_67890_nn_basics-2.ipynb", "12345"),                          # Canvas, re-upload
])
def test_pattern_reads_the_student_id_from_lms_names(name, student):
    plugin = FileNameCollectorPlugin(named_regexp=intake.NAMED_REGEXP)
    info = plugin.collect(f"/course/downloaded/{ASSIGNMENT}/extracted/download/{name}")
    assert (info["student_id"], f"{info['file_id']}.ipynb") == (student, NOTEBOOK)


@pytest.mark.parametrize("name", [
    "nn_basics.ipynb",                                            # no LMS name at all
    "Taro Yamada_assignsubmission_file_nn_basics.ipynb",          # no student number
    "Taro Yamada_12345_assignsubmission_onlinetext_nn_basics.ipynb",
    "yamadataro_12345_nn_basics.ipynb",                           # Canvas name without submission number
])
def test_pattern_rejects_other_names(name):
    plugin = FileNameCollectorPlugin(named_regexp=intake.NAMED_REGEXP)
    assert plugin.collect(f"/course/downloaded/{ASSIGNMENT}/extracted/download/{name}") is None


# --- LMS zip ---------------------------------------------------------------------------

def test_moodle_zip_lands_in_submitted_and_autogrades(tmp_path):
    root = course.create_course(tmp_path / "course")
    course.run_nbgrader(root, "generate_assignment", ASSIGNMENT, "--force")
    correct, blank = _notebook(CORRECT), _notebook(BLANK)
    archive = _zip(tmp_path / "moodle.zip", {
        f"Taro Yamada_12345_assignsubmission_file_{NOTEBOOK}": correct,
        f"Hanako Sato_23456_assignsubmission_file_/{NOTEBOOK}": blank,
        "Hanako Sato_23456_assignsubmission_onlinetext_onlinetext.html": "<p>done</p>",
        "Jiro Suzuki_34567_assignsubmission_file_Untitled.ipynb": blank,
    })

    proc = _intake(root, archive)
    assert proc.returncode == 0, proc.stderr
    assert f"Collected 2 submission(s) into {root / 'submitted'}: 12345, 23456" in proc.stdout
    assert "Skipped Jiro Suzuki_34567_assignsubmission_file_Untitled.ipynb" in proc.stdout
    assert sorted(p.name for p in (root / "submitted").iterdir()) == ["12345", "23456"]
    assert _submitted(root, "12345").read_text("utf-8") == correct
    assert _submitted(root, "23456").read_text("utf-8") == blank
    assert not list(root.glob(".intake-*")), "the staging directory was left behind"

    course.autograde(root, ["12345"])
    results = course.autograded_results(root, "12345")
    assert {cell: r.score for cell, r in results.items()} == {c: float(p) for c, p in CHECK_POINTS.items()}


def test_canvas_zip_and_force_replaces_existing_submissions(tmp_path):
    root = _course(tmp_path / "course")
    first = _zip(tmp_path / "first.zip", {f"yamadataro_12345_67890_{NOTEBOOK}": _notebook(BLANK)})
    assert _intake(root, first).returncode == 0
    blank = _tree(root)

    correct = _notebook(CORRECT)
    again = _zip(tmp_path / "again.zip", {
        f"yamadataro_late_12345_67899_{Path(NOTEBOOK).stem}-1.ipynb": correct,
        f"satohanako_23456_67891_{NOTEBOOK}": correct,
    })
    refused = _intake(root, again)
    assert refused.returncode == 2
    assert refused.stderr.strip() == ("intake: error: 1 student(s) in the zip already have a submission (12345); "
                                      "use --force to replace them")
    assert _tree(root) == blank

    assert _intake(root, again, "--force").returncode == 0
    assert _submitted(root, "12345").read_text("utf-8") == correct
    assert _submitted(root, "23456").read_text("utf-8") == correct


@pytest.mark.parametrize(("make", "message"), [
    (lambda d: d / "missing.zip", "no such file"),
    (lambda d: d / "course" / "nbgrader_config.py", "not a readable zip file"),
    (lambda d: _zip(d / "other.zip", {"README.txt": "x", NOTEBOOK: "{}"}), f"no submission of {NOTEBOOK}"),
    (lambda d: _zip(d / "twice.zip", {f"A_1_assignsubmission_file_{NOTEBOOK}": "{}",
                                      f"A_1_assignsubmission_file_/{NOTEBOOK}": "{}"}),
     "student 1 has 2 notebooks in the zip"),
], ids=["missing", "not-a-zip", "no-match", "duplicate"])
def test_bad_zip_is_one_error_line_and_writes_nothing(tmp_path, make, message):
    root = _course(tmp_path / "course")
    before = _tree(root)
    proc = _intake(root, make(tmp_path))
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert len(proc.stderr.splitlines()) == 1 and proc.stderr.startswith("intake: error: ")
    assert message in proc.stderr
    assert _tree(root) == before


def test_course_without_release_is_refused(tmp_path):
    root = course.create_course(tmp_path / "course")
    proc = _intake(root, _zip(tmp_path / "m.zip", {f"A_1_assignsubmission_file_{NOTEBOOK}": "{}"}))
    assert proc.returncode == 2
    assert "run `nbgrader generate_assignment nn_basics` there first" in proc.stderr
    assert not (root / "submitted").exists()


def test_failed_zip_collect_leaves_the_course_untouched(tmp_path, monkeypatch):
    root = _course(tmp_path / "course")
    before = _tree(root)

    def failing_nbgrader(*args, **kwargs):
        raise course.CourseError("nbgrader zip_collect failed")

    monkeypatch.setattr(intake, "run_nbgrader", failing_nbgrader)
    archive = _zip(tmp_path / "m.zip", {f"A_1_assignsubmission_file_{NOTEBOOK}": _notebook(BLANK)})
    with pytest.raises(course.CourseError):
        intake.collect(archive, root)
    assert _tree(root) == before


# --- nbgrader exchange ---------------------------------------------------------------------

def test_exchange_release_fetch_submit_collect_round_trip(tmp_path):
    root = _course(tmp_path / "course")
    exchange = f"--Exchange.root={tmp_path / 'exchange'}"
    course.run_nbgrader(root, "release_assignment", ASSIGNMENT, exchange)

    submitted = {}
    for student, sample in [("alice", CORRECT), ("bob", BLANK)]:
        home = tmp_path / student  # the student's own working folder
        home.mkdir()
        course.run_nbgrader(home, "fetch_assignment", ASSIGNMENT, f"--course={COURSE_ID}", exchange)
        fetched = home / ASSIGNMENT / NOTEBOOK
        nb = course.fill_answers(nbformat.read(fetched, as_version=4), sample_class()[sample])
        nbformat.write(nb, fetched)
        submitted[student] = fetched.read_text("utf-8")
        course.run_nbgrader(home, "submit", ASSIGNMENT, f"--course={COURSE_ID}", f"--student={student}", exchange)

    course.run_nbgrader(root, "collect", ASSIGNMENT, exchange)
    assert sorted(p.name for p in (root / "submitted").iterdir()) == ["alice", "bob"]
    for student, text in submitted.items():
        assert _submitted(root, student).read_text("utf-8") == text
        assert (root / "submitted" / student / ASSIGNMENT / "timestamp.txt").is_file()
