"""The batch's memory between runs: which submission was graded from which files, and how.

An append-only JSON-lines file. A line is written (and flushed to disk) only after the
submission's grades are committed to the gradebook and its files are in place, so an
interrupted run never records a grade it did not finish, and the next run picks up exactly the
submissions without a line. A line cut short by a crash is ignored. Each line names the
grader that decided it (:mod:`autograder.bulk.grader_identity`): a grade is valid only for it.
"""

from __future__ import annotations

import datetime
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from .outcome import Outcome, Status

def state_dir(root: Path, assignment: str) -> Path:
    """The bulk grader's state for one assignment in the course directory."""
    return root / ".nn-autograder" / assignment


def ledger_path(root: Path, assignment: str) -> Path:
    return state_dir(root, assignment) / "ledger.jsonl"


@dataclass(frozen=True)
class Entry:
    student: str
    digest: str
    status: Status
    reason: str
    score: float | None
    max_score: float | None
    at: str  # ISO time the outcome was recorded
    wall_s: float = 0.0  # how long the worker took, and the CPU time of the submission's kernels:
    kernel_cpu_s: float = 0.0  # what an instructor needs to size a cluster for the next batch
    grader: str = ""  # digest of the grader that decided it (grader_identity); "" for older lines


class Ledger:
    def __init__(self, path: Path) -> None:
        self.path = path

    def latest(self) -> dict[str, Entry]:
        """The last entry of each student."""
        entries: dict[str, Entry] = {}
        if not self.path.exists():
            return entries
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                data = json.loads(line)
                entry = Entry(**{**data, "status": Status(data["status"])})
            except (ValueError, TypeError, KeyError):
                continue  # a line cut short by a crash
            entries[entry.student] = entry
        return entries

    def append(self, outcome: Outcome, status: Status, reason: str,
               score: float | None, max_score: float | None, grader: str = "") -> Entry:
        entry = Entry(outcome.student, outcome.digest, status, reason, score, max_score,
                      datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                      round(outcome.wall_s, 2), round(outcome.kernel_cpu_s, 2), grader)
        line = json.dumps({**asdict(entry), "status": entry.status.value}, ensure_ascii=False)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(line + "\n")
            f.flush()
            os.fsync(f.fileno())
        return entry
