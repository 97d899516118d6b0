"""Progress of a batch on stderr: a redrawn bar on a terminal, one plain line per submission otherwise.

Log files and CI capture stderr too; for them a line per finished submission is readable
where a bar full of carriage returns is not.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from .outcome import Status

BAR_WIDTH = 24


def duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


class Progress:
    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.total = total
        self.done = 0
        self.counts = {status: 0 for status in Status}
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.started = time.monotonic()
        self.first_done_at: float | None = None

    def eta(self) -> str:
        """Remaining time at the pace since the first result (before it, workers were starting)."""
        if self.first_done_at is None:
            return "--"
        now = time.monotonic()
        per_result = (now - self.first_done_at) / (self.done - 1) if self.done > 1 else now - self.started
        return duration(per_result * (self.total - self.done))

    def advance(self, student: str, status: Status, detail: str) -> None:
        self.done += 1
        if self.first_done_at is None:
            self.first_done_at = time.monotonic()
        self.counts[status] += 1
        if self.tty:
            filled = BAR_WIDTH * self.done // max(self.total, 1)
            failed = self.counts[Status.FAILED] + self.counts[Status.ERROR]
            self.stream.write(f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {self.done}/{self.total}"
                              f"  failed {failed}  ETA {self.eta()}   ")
        else:
            self.stream.write(f"[{self.done}/{self.total}] {student}: {status.value}"
                              f"{' ' + detail if detail else ''} (ETA {self.eta()})\n")
        self.stream.flush()

    def note(self, text: str) -> None:
        """One line the instructor must read (why the batch re-grades, or stopped), above the bar."""
        prefix = "\r" if self.tty else ""
        self.stream.write(f"{prefix}{text}\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty and self.done:
            self.stream.write("\n")
            self.stream.flush()
