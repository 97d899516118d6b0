"""A grade is valid only for its grader: the identity, and a batch that re-grades when it changes."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from autograder import course
from autograder.bulk import BatchOptions, grade_assignment
from autograder.bulk.grader_identity import PACKAGE_DIR, GraderHistory, grader_identity
from autograder.bulk.outcome import Status
from autograder.bulk.report import summary
from bulk_support import fresh_course, submit


@pytest.fixture
def package(tmp_path: Path) -> Path:
    """A copy of the installed package, to change without touching the real one."""
    copy = tmp_path / "pkg" / "autograder"
    shutil.copytree(PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def test_every_grading_file_of_the_package_and_the_course_config_is_covered(package, tmp_path):
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n")
    identity = grader_identity(tmp_path, package)
    for name in ("autograder/checks.py", "autograder/messages.py", "autograder/thresholds.json",
                 "autograder/preprocessors.py", "autograder/bulk/worker.py", "course/nbgrader_config.py"):
        assert name in identity.files
    assert any(n.endswith(".j2") for n in identity.files)  # feedback templates
    assert not any("__pycache__" in n for n in identity.files)


@pytest.mark.parametrize("change, named", [
    (lambda pkg, course: (pkg / "thresholds.json").write_text('{"changed": true}'), "autograder/thresholds.json"),
    (lambda pkg, course: (pkg / "messages.py").write_text("# another catalogue\n"), "autograder/messages.py"),
    (lambda pkg, course: (pkg / "checks.py").rename(pkg / "bulk" / "checks.py"), "autograder/bulk/checks.py"),
    (lambda pkg, course: (course / "nbgrader_config.py").write_text("c.Execute.timeout = 5\n"), "course/nbgrader_config.py"),
])
def test_a_change_to_checks_thresholds_messages_or_config_changes_the_identity(package, tmp_path, change, named):
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n")
    before = grader_identity(tmp_path, package)
    change(package, tmp_path)
    after = grader_identity(tmp_path, package)
    assert after.digest != before.digest
    assert named in after.differences(before)


def test_compiled_files_and_unrelated_files_do_not_change_it(package, tmp_path):
    before = grader_identity(tmp_path, package)
    (package / "__pycache__").mkdir(exist_ok=True)
    (package / "__pycache__" / "checks.cpython-311.pyc").write_bytes(b"\0")
    (package / "notes.swp").write_bytes(b"\0")
    assert grader_identity(tmp_path, package).digest == before.digest


def test_the_history_keeps_the_last_identities(package, tmp_path):
    history = GraderHistory(tmp_path / "graders.json")
    first = grader_identity(tmp_path, package)
    history.remember(first)
    (package / "thresholds.json").write_text("{}")
    second = grader_identity(tmp_path, package)
    history.remember(second)
    assert list(history.load()) == [first.digest, second.digest]
    (tmp_path / "graders.json").write_text("not json")
    assert history.load() == {}


def test_a_changed_grader_re_grades_unchanged_submissions_without_force_and_says_why(released_course, tmp_path):
    """End to end, without a kernel: a refused folder's zero is re-decided when the grader changes.

    (Graded submissions take the same path through the plan: the ledger entry's grader.)
    """
    root = fresh_course(released_course, tmp_path / "course")
    submit(root, "s01", {})
    folder = root / "submitted" / "s01" / course.ASSIGNMENT
    (folder / "data.csv").symlink_to("/etc/passwd")
    options = BatchOptions(root=root, progress=io.StringIO())

    first = grade_assignment(options)
    assert [(r.status, r.score) for r in first.rows] == [(Status.FAILED, 0)]
    second = grade_assignment(options)
    assert [r.status for r in second.rows] == [Status.SKIPPED] and second.notes == []

    with (root / "nbgrader_config.py").open("a") as config:
        config.write("\nc.Execute.timeout = 300\n")
    progress = io.StringIO()
    third = grade_assignment(BatchOptions(root=root, progress=progress))
    assert [(r.status, r.score) for r in third.rows] == [(Status.FAILED, 0)]
    why = "re-grading 1 unchanged submission: the grader changed since it was graded (course/nbgrader_config.py)"
    assert third.notes == [why]
    assert why in progress.getvalue() and why in summary(third)

    ledger = root / ".nn-autograder" / course.ASSIGNMENT / "ledger.jsonl"
    graders = [json.loads(line)["grader"] for line in ledger.read_text().splitlines()]
    assert len(graders) == 2  # the skipped run wrote no line
    assert graders[0] != graders[1] == grader_identity(root).digest
    assert [r.status for r in grade_assignment(options).rows] == [Status.SKIPPED]


def test_a_ledger_line_without_a_grader_is_stale(released_course, tmp_path):
    root = fresh_course(released_course, tmp_path / "course")
    submit(root, "s01", {})
    (root / "submitted" / "s01" / course.ASSIGNMENT / "pipe").symlink_to("x")
    grade_assignment(BatchOptions(root=root, progress=io.StringIO()))
    ledger = root / ".nn-autograder" / course.ASSIGNMENT / "ledger.jsonl"
    line = json.loads(ledger.read_text())
    del line["grader"]  # as an earlier version of the grader wrote it
    ledger.write_text(json.dumps(line) + "\n")
    report = grade_assignment(BatchOptions(root=root, progress=io.StringIO()))
    assert [r.status for r in report.rows] == [Status.FAILED]
    assert report.notes == ["re-grading 1 unchanged submission: the grader changed since it was graded "
                            "(its files were not recorded)"]
