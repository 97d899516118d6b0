"""The summary printed after a batch: counts, then every submission with its status and reason."""

from __future__ import annotations

from .batch import BatchReport
from .outcome import Status
from .progress import duration

LABELS = {
    Status.GRADED: "graded",
    Status.FAILED: "failed (recorded as 0)",
    Status.ERROR: "not graded",
    Status.SKIPPED: "skipped",
    None: "not reached",
}


def summary(report: BatchReport) -> str:
    counts = {label: 0 for label in LABELS.values()}
    for row in report.rows:
        counts[LABELS[row.status]] += 1
    totals = ", ".join(f"{label} {n}" for label, n in counts.items() if n)
    head = f"{report.assignment}: {len(report.rows)} submissions in {duration(report.elapsed_s)}: {totals}"
    for note in report.notes:
        head += f"\n{note}"
    if report.stopped:
        head += f"\nStopped: {report.stopped}"
    if report.interrupted:
        head += "\nInterrupted: finished grades are recorded; run the same command again to grade the rest."
    table = [("student", "status", "score", "reason")]
    for row in report.rows:
        score = f"{row.score:g}/{row.max_score:g}" if row.score is not None and row.max_score is not None else ""
        table.append((row.student, LABELS[row.status], score, row.reason))
    widths = [max(len(r[i]) for r in table) for i in range(3)]
    lines = ["  ".join([*(cell.ljust(w) for cell, w in zip(r[:3], widths)), r[3]]).rstrip() for r in table]
    return "\n".join([head, "", *lines])
