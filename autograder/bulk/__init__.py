"""Bulk grading: every submission of an assignment, in parallel, on a Dask cluster, resumable.

nbgrader grades one submission per command, each paying for a new Python, nbgrader and, for
this course, TensorFlow. Here long-lived worker processes run nbgrader's own autograde
pipeline per submission, with kernels forked from a process that has already imported what
the notebook imports; only the coordinator writes the gradebook. Start at
:func:`autograder.bulk.batch.grade_assignment`; ``docs/cluster.md`` covers clusters.
"""

from .batch import BatchOptions, BatchReport, BulkInputError, grade_assignment

__all__ = ["BatchOptions", "BatchReport", "BulkInputError", "grade_assignment"]
