"""Verdicts that send a submission to a TA even when the kernel's own verdict agreed.

A check that finds a fact the submission reported about itself (its training history, its
optimizer's step counter) contradicted by an independent source fails closed with one of these
mistake ids. The kernel ran the same check and failed too, so the clean verdict does not
*disagree* with the kernel's; the forgery is visible only in the mistake id, and the grader's
review step flags every clean verdict whose id is listed here.

This module imports nothing heavy, so the nbgrader process can read it without TensorFlow.
"""

from __future__ import annotations

REVIEW_MISTAKES: frozenset[str] = frozenset({
    # check_training (autograder/training_audit.py)
    "training.record_tampered",
    "training.record_inconsistent",
    "training.history_exceeds_optimizer",
    "training.history_exceeds_source",
    "training.history_steps_exceed_source",
    "training.optimizer_exceeds_source",
    "training.fit_not_found",
    "training.fit_unreadable",
})


def needs_review(mistake_id: str | None) -> bool:
    """True when a clean verdict with ``mistake_id`` must flag its submission for review."""
    return mistake_id in REVIEW_MISTAKES
