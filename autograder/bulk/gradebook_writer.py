"""The one process that writes the course gradebook and ``autograded/``: the coordinator.

Outcomes arrive from many workers at once; they are recorded here one after the other, each in
one gradebook transaction, so SQLite's single-writer rule is never tested by our own workers.
Someone else may still hold the SQLite file briefly (the formgrader, a TA's ``nbgrader``
command): the connection waits for the lock, and a transaction that still finds the database
locked is rolled back and retried. Every step is idempotent, so a retry, or a re-run after an
interruption between the steps, leads to the same state. The same code serves PostgreSQL,
which takes concurrent writers in its stride.

Order per submission: gradebook commit, then files, then the ledger line (see
:mod:`autograder.bulk.ledger`).
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import sqlalchemy as sa
from nbgrader.api import Gradebook, MissingEntry

from .gradebook_rows import apply_changes, student_rows, zero_grades
from .outcome import Outcome, Status

SQLITE_BUSY_TIMEOUT = 30.0  # seconds a connection waits for another writer's lock
LOCK_RETRIES = 20  # then the submission is reported as not graded
T = TypeVar("T")


def with_busy_timeout(db_url: str) -> str:
    """``db_url`` with a generous SQLite lock wait (other databases unchanged)."""
    url = sa.engine.make_url(db_url)
    if url.get_backend_name() != "sqlite" or "timeout" in url.query:
        return db_url
    return url.update_query_dict({"timeout": str(SQLITE_BUSY_TIMEOUT)}).render_as_string(hide_password=False)


def _retry_locked(action: Callable[[], T]) -> T:
    for attempt in range(LOCK_RETRIES):
        try:
            return action()
        except sa.exc.OperationalError as exc:
            if "locked" not in str(exc).lower() or attempt == LOCK_RETRIES - 1:
                raise
            time.sleep(min(0.5 * 2 ** attempt, 10.0))
    raise AssertionError("unreachable")


class GradebookWriter:
    """Records outcomes of one assignment into the course gradebook and ``autograded/``."""

    def __init__(self, db_url: str, course_id: str, assignment: str,
                 autograded: Callable[[str], Path]) -> None:
        self.gb = Gradebook(with_busy_timeout(db_url), course_id)
        self.assignment = assignment
        self.autograded = autograded  # student -> their autograded/<student>/<assignment> folder

    def close(self) -> None:
        self.gb.close()

    def rows(self, student: str):
        """The student's current rows, sent with the job so the worker starts from them."""
        return _retry_locked(lambda: student_rows(self.gb, self.assignment, student))

    def record(self, outcome: Outcome) -> tuple[float | None, float | None]:
        """Commit ``outcome``; return the submission's (score, max score) as nbgrader computes them."""
        if outcome.status in (Status.GRADED, Status.FAILED):
            _retry_locked(lambda: self._write_grades(outcome))
        self._place_files(outcome)
        return _retry_locked(lambda: self._score(outcome.student))

    def _write_grades(self, outcome: Outcome) -> None:
        if outcome.changes is not None:
            apply_changes(self.gb, self.assignment, outcome.student, outcome.changes)
        if outcome.status is Status.FAILED:
            zero_grades(self.gb, self.assignment, outcome.student, outcome.timestamp)

    def _place_files(self, outcome: Outcome) -> None:
        """Swap the staged autograded folder in; without one, remove the stale folder as nbgrader does."""
        dest = self.autograded(outcome.student)
        old = dest.with_name(f".{dest.name}.old-{uuid.uuid4().hex[:8]}")
        if dest.exists():
            os.replace(dest, old)
        if outcome.staged is not None:
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(outcome.staged, dest)
        shutil.rmtree(old, ignore_errors=True)

    def _score(self, student: str) -> tuple[float | None, float | None]:
        try:
            submission = self.gb.find_submission(self.assignment, student)
        except MissingEntry:
            return None, None
        return submission.score, submission.max_score
