"""The hostile corpus through the bulk grader: exact points, intact gradebook, batch goes on."""

from __future__ import annotations

import hashlib
import io
import socket
import sqlite3
import threading
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from autograder import course
from autograder.bulk import BatchOptions, grade_assignment
from autograder.bulk.outcome import Status
from bulk_support import fresh_course
from hostile import CASES

# One cell stuck in a loop is interrupted after this long (the course default is 600 s).
CELL_TIMEOUT = 90


class _Listener:
    """A TCP server on loopback that counts the connections that reach it."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def hostile_batch(released_course, tmp_path_factory):
    root = fresh_course(released_course, tmp_path_factory.mktemp("hostile") / "course")
    with (root / "nbgrader_config.py").open("a") as config:
        config.write(f"\nc.Execute.timeout = {CELL_TIMEOUT}\n")
    listener = _Listener()
    release = course.release_notebook(root)
    for case in CASES:
        answers = {k: v.replace("{root}", str(root)).replace("{port}", str(listener.port))
                   for k, v in case.answers.items()}
        nb = course.fill_answers(release, answers)
        if case.mutate:
            case.mutate(nb)
        path = course.submit(root, case.name, nb)
        if case.prepare:
            case.prepare(path.parent, root)
    protected = [root / "source" / course.ASSIGNMENT / course.NOTEBOOK,
                 root / "submitted" / "h01_sys_exit" / course.ASSIGNMENT / course.NOTEBOOK]
    before = {p: _sha(p) for p in protected}
    report = grade_assignment(BatchOptions(root=root, workers=2, progress=io.StringIO()))
    yield root, report, before, listener
    listener.sock.close()


GRADED = [c for c in CASES if c.failure is None]
FAILED = [c for c in CASES if c.failure is not None]


@pytest.mark.parametrize("case", FAILED, ids=lambda c: c.name)
def test_failed_submission_gets_zero_with_its_reason(hostile_batch, case):
    root, report = hostile_batch[0], hostile_batch[1]
    row = next(r for r in report.rows if r.student == case.name)
    assert (row.status, row.score) == (Status.FAILED, 0)
    assert row.reason.startswith(case.failure)
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        assert gb.find_submission(course.ASSIGNMENT, case.name).score == 0


@pytest.mark.parametrize("case", GRADED, ids=lambda c: c.name)
def test_hostile_submission_gets_exactly_the_expected_verdicts(hostile_batch, case):
    root = hostile_batch[0]
    results = course.autograded_results(root, case.name)
    got = {check: (r.score == r.max_score, r.verdict.mistake_id if r.verdict else "no verdict")
           for check, r in results.items()}
    want = {check: (mistake is None, mistake) for check, mistake in case.expected.items()}
    assert got == want
    assert sum(r.score for r in results.values()) == case.expected_points()


@pytest.mark.parametrize("case", GRADED, ids=lambda c: c.name)
def test_disagreeing_or_unverifiable_submissions_are_flagged(hostile_batch, case):
    root = hostile_batch[0]
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        assert gb.find_submission_notebook(course.ASSIGNMENT, course.ASSIGNMENT, case.name).flagged == case.flagged


def test_the_batch_graded_everyone_and_nothing_outside_was_touched(hostile_batch):
    root, report, before, listener = hostile_batch
    assert {row.student for row in report.rows} == {c.name for c in CASES}
    assert report.exit_code == 0
    con = sqlite3.connect(root / "gradebook.db")
    try:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        con.close()
    for path, digest in before.items():
        assert _sha(path) == digest, f"{path} was modified"
    assert listener.connections == 0
