"""Bulk grading: every submission of an assignment, in parallel, on a Dask cluster, resumable.

nbgrader grades one submission per command, each paying for a new Python, nbgrader and, for
this course, TensorFlow. Here long-lived worker processes run nbgrader's own autograde
pipeline per submission, with kernels forked from a process that has already imported what
the notebook imports; only the coordinator writes the gradebook. Start at
:func:`autograder.bulk.batch.grade_assignment`; ``docs/cluster.md`` covers clusters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .batch import BatchOptions, BatchReport, BulkInputError, grade_assignment

__all__ = ["BatchOptions", "BatchReport", "BulkInputError", "grade_assignment"]


def __getattr__(name: str) -> object:
    """Import the coordinator (Dask, nbgrader) on first use, not with the package.

    The class report reads only the ledger (:mod:`autograder.bulk.ledger`); importing the
    package must not cost it Dask's start-up.
    """
    if name in __all__:
        from . import batch
        return getattr(batch, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
