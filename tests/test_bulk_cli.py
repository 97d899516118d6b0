"""``python -m autograder grade``: unusable input is one error line, exit 2, and nothing written.

Also the pieces of the command that need no grading: option parsing and the progress display.
"""

from __future__ import annotations

import argparse
import fcntl
import io
import subprocess
import sys

import pytest

from autograder import course
from autograder.__main__ import main
from autograder.bulk.cli import memory_size
from autograder.bulk.outcome import Status
from autograder.bulk.progress import Progress
from autograder.sample_class import sample_class
from bulk_support import fresh_course, submit, tree


@pytest.fixture
def released(released_course, tmp_path):
    return fresh_course(released_course, tmp_path / "course")


@pytest.fixture
def submitted(released):
    submit(released, "s01_correct", sample_class()["s01_correct"])
    return released


def _refused(capsys, argv: list[str]) -> str:
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1 and err.startswith("nn-autograder grade: error: ")
    return err


def test_missing_course_directory(tmp_path, capsys):
    err = _refused(capsys, ["grade", "--course", str(tmp_path / "nowhere")])
    assert "course directory not found" in err
    assert not (tmp_path / "nowhere").exists()


def test_course_without_gradebook_is_refused_and_no_gradebook_is_created(tmp_path, capsys):
    root = tmp_path / "course"
    root.mkdir()
    (root / "nbgrader_config.py").write_text("c = get_config()\n")
    err = _refused(capsys, ["grade", "--course", str(root)])
    assert "no gradebook" in err
    assert tree(root) == {"nbgrader_config.py"}


def test_unknown_assignment(submitted, capsys):
    before = tree(submitted)
    err = _refused(capsys, ["grade", "lesson_99", "--course", str(submitted)])
    assert "unknown assignment 'lesson_99'" in err and course.ASSIGNMENT in err
    assert tree(submitted) == before


def test_no_submissions(released, submitted, capsys):
    before = tree(submitted)
    err = _refused(capsys, ["grade", "--course", str(submitted), "--students", "nobody*"])
    assert "no submissions" in err and "nobody*" in err
    assert tree(submitted) == before


def test_a_second_run_of_the_same_assignment_is_refused_while_one_runs(submitted, capsys):
    state = submitted / ".nn-autograder" / course.ASSIGNMENT
    state.mkdir(parents=True)
    with (state / "lock").open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        err = _refused(capsys, ["grade", "--course", str(submitted)])
    assert "in progress" in err
    assert tree(state) == {"lock"}


@pytest.mark.parametrize("argv, message", [
    (["--wrokers", "2"], "unrecognized arguments: --wrokers"),
    (["--workers", "0"], "must be a positive whole number"),
    (["--memory-limit", "lots"], "not a memory size"),
    (["--timeout", "-5"], "not a number of seconds"),
])
def test_wrong_options_exit_2_with_argparse_message(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["grade", *argv])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_the_command_prints_no_traceback(submitted):
    proc = subprocess.run([sys.executable, "-m", "autograder", "grade", "lesson_99", "--course", str(submitted)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()] and "Traceback" not in proc.stderr


@pytest.mark.parametrize("text, size", [("4G", 4 * 2**30), ("512M", 512 * 2**20), ("1.5GiB", 3 * 2**29),
                                        ("2048", 2048), ("64k", 64 * 2**10)])
def test_memory_sizes(text, size):
    assert memory_size(text) == size


def test_memory_size_rejects_nonsense():
    with pytest.raises(argparse.ArgumentTypeError):
        memory_size("4 gigs")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_redraws_one_line_on_a_terminal_and_prints_lines_otherwise():
    terminal, log = _Terminal(), io.StringIO()
    for stream in (terminal, log):
        progress = Progress(3, stream)
        progress.advance("a", Status.GRADED, "15/15")
        progress.advance("b", Status.FAILED, "timed out")
        progress.close()
    assert terminal.getvalue().count("\r[") == 2 and "2/3" in terminal.getvalue() and "ETA" in terminal.getvalue()
    assert terminal.getvalue().endswith("\n") and terminal.getvalue().count("\n") == 1
    assert log.getvalue().splitlines()[0].startswith("[1/3] a: graded 15/15 (ETA ")
    assert log.getvalue().splitlines()[1].startswith("[2/3] b: failed timed out (ETA ")
