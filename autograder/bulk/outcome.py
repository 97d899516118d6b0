"""What the coordinator sends to a worker for one submission, and what comes back.

Both cross process (and, on a cluster, machine) boundaries through Dask, so they are plain
picklable data. Paths are strings as the workers see them (the course directory is shared).
"""

from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass

from .environment_check import ReleaseCells
from .gradebook_rows import RowChanges, StudentRows


class Status(str, enum.Enum):
    GRADED = "graded"  # nbgrader's pipeline ran to the end; its grades are recorded
    FAILED = "failed"  # the code crashed, hung or ran out of memory: recorded as a zero, with the reason
    ERROR = "error"  # could not be graded at all (nothing recorded); the batch exits non-zero
    SKIPPED = "skipped"  # unchanged since it was last graded


@dataclass(frozen=True)
class Job:
    root: str  # course directory
    assignment: str
    course_id: str  # the assignment's course in the gradebook
    student: str
    digest: str  # fingerprint of the submitted files, recorded with the outcome
    batch: str  # identifies the batch: configuration is loaded once per batch and worker
    template: str  # gradebook file holding the assignment's definition
    staging: str  # autograded files are written under STAGING/<student>/<assignment>
    before: StudentRows | None  # the student's gradebook rows at dispatch
    preload: tuple[str, ...]  # modules the kernel zygote imports
    timeout: float | None  # seconds for the whole submission
    memory_limit: int | None  # bytes of address space per kernel
    notebooks: tuple[str, ...] = ()  # the assignment's notebook names: any other .ipynb is ignored
    release: ReleaseCells = ReleaseCells()  # the release's own code, to tell a broken environment
    folder: str | None = None  # grade this folder instead of submitted/<student>/<assignment>


@dataclass(frozen=True)
class Outcome:
    student: str
    digest: str
    status: Status
    reason: str = ""
    changes: RowChanges | None = None  # set when nbgrader's pipeline completed
    staged: str | None = None  # the autograded directory to move into place
    timestamp: datetime.datetime | None = None  # the submission's timestamp.txt, for a recorded zero
    wall_s: float = 0.0
    kernel_cpu_s: float = 0.0  # CPU time of the submission's kernels
    environment: bool = False  # ERROR caused by the grading environment: the batch stops
