"""Grading one submission inside a long-lived worker process (a Dask task).

The submission goes through nbgrader's own ``Autograde`` converter, configured as the
``nbgrader autograde`` command would be (see :mod:`autograder.bulk.course_config`), with two
differences that do not change what the pipeline computes:

* the gradebook is a private SQLite copy of the assignment's definition, seeded with the
  student's current rows (see :mod:`autograder.bulk.gradebook_rows`);
* the kernel is forked from the worker's zygote (see :mod:`autograder.bulk.kernel_launch`).

nbgrader, Python and TensorFlow start-up are paid once per worker instead of once per
submission. The submission's deadline and memory limit are enforced here, and what happened is
classified into an :class:`~autograder.bulk.outcome.Outcome` for the coordinator.
"""

from __future__ import annotations

import functools
import io
import logging
import re
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook
from nbgrader.converters import Autograde
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import Execute
from traitlets.config import Config
from traitlets.utils.importstring import import_item

from .course_config import CourseConfig, environment, load_course_config
from .gradebook_rows import RowChanges, courses, seed, sqlite_url, student_rows
from .kernel_launch import KernelSession, forking, kernel_session
from .outcome import Job, Outcome, Status

# Error names that mean the student's code ran out of memory.
MEMORY_ERRORS = {"MemoryError", "ResourceExhaustedError"}
ALLOCATION_FAILURE_SIGNALS = {signal.SIGABRT, signal.SIGSEGV, signal.SIGBUS}
_EXCEPTION_LINE = re.compile(r"^\s*([\w.]+(?:Error|Exception|Exit)\b.*)$")


@functools.lru_cache(maxsize=1)
def _course_config(root: str, batch: str) -> CourseConfig:
    """The course configuration, loaded once per batch in this worker (``batch`` is the key)."""
    return load_course_config(Path(root))


def grade_submission(job: Job) -> Outcome:
    """Grade ``job``'s submission with nbgrader; never raises for a problem of the submission."""
    started = time.perf_counter()
    course = _course_config(job.root, job.batch)
    scratch = Path(tempfile.mkdtemp(prefix="nn-autograder-task-"))
    try:
        db = scratch / "gradebook.db"
        shutil.copyfile(job.template, db)
        url = sqlite_url(db)
        with environment(course.env):
            template_courses = _seed(url, job)
            session = KernelSession(preload=job.preload, memory_limit=job.memory_limit, timeout=job.timeout)
            log = io.StringIO()
            error: BaseException | None = None
            with kernel_session(session), _captured(log) as logger:
                try:
                    coursedir = _autograde(course, job, url, logger)
                except (Exception, SystemExit) as exc:  # noqa: BLE001 - nbgrader reports per submission
                    error = exc
                    coursedir = None
            with Gradebook(url, job.course_id) as gb:
                after = student_rows(gb, job.assignment, job.student)
                new_courses = tuple(sorted(set(courses(gb)) - set(template_courses)))
        staged = Path(job.staging) / job.student / job.assignment
        status, reason = _classify(job, session, error, log.getvalue(), staged)
        completed = error is None and staged.is_dir() and after is not None
        return Outcome(
            student=job.student, digest=job.digest, status=status, reason=reason,
            changes=RowChanges(job.before, after, new_courses) if completed else None,
            staged=str(staged) if completed else None,
            timestamp=_timestamp(course, job, coursedir),
            wall_s=time.perf_counter() - started, kernel_cpu_s=session.cpu_seconds())
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _seed(url: str, job: Job) -> list[str]:
    """Seed the private gradebook; return its course ids, to spot the ones nbgrader adds."""
    with Gradebook(url, job.course_id) as gb:
        seed(gb, job.assignment, job.student, job.before)
        return courses(gb)


def _autograde(course: CourseConfig, job: Job, db_url: str, logger: logging.Logger) -> CourseDirectory:
    """Run nbgrader's Autograde converter for one student, writing into the staging directory."""
    config = Config(course.config)
    coursedir = CourseDirectory(config=config, root=job.root)
    coursedir.assignment_id = job.assignment
    coursedir.student_id = job.student
    coursedir.db_url = db_url
    coursedir.autograded_directory = job.staging  # absolute: nbgrader's path join keeps it
    converter = Autograde(coursedir=coursedir, config=config, log=logger)
    converter.force = True
    converter.autograde_preprocessors = [_with_forked_kernel(p) for p in converter.autograde_preprocessors]
    converter.start()
    return coursedir


def _with_forked_kernel(preprocessor: type | str) -> type | str:
    cls = import_item(preprocessor) if isinstance(preprocessor, str) else preprocessor
    return forking(cls) if isinstance(cls, type) and issubclass(cls, Execute) else preprocessor


def _timestamp(course: CourseConfig, job: Job, coursedir: CourseDirectory | None):
    coursedir = coursedir or CourseDirectory(config=Config(course.config), root=job.root)
    submitted = coursedir.format_path(coursedir.submitted_directory, job.student, job.assignment)
    try:
        return coursedir.get_existing_timestamp(submitted)
    except SystemExit:  # nbgrader "fails" on an unparsable timestamp.txt
        return None


def _classify(job: Job, session: KernelSession, error: BaseException | None, log: str,
              staged: Path) -> tuple[Status, str]:
    """Decide the submission's status and the reason an instructor reads in the summary."""
    if session.deadline_hit:
        return Status.FAILED, f"timed out: still running {job.timeout:g} s after its kernel started"
    limit = f" ({_size(job.memory_limit)})" if job.memory_limit else ""
    if _raised(staged, MEMORY_ERRORS):
        return Status.FAILED, f"ran out of memory{limit}"
    exits = session.unexpected_exits()
    if exits:
        died = "the kernel died: " + ", ".join(_exit_text(code) for code in exits)
        # C++ code (TensorFlow) that cannot allocate under RLIMIT_AS aborts or faults.
        if job.memory_limit and any(-code in ALLOCATION_FAILURE_SIGNALS for code in exits):
            died += f", probably at the memory limit{limit}"
        return Status.FAILED, died
    if error is not None:
        return Status.ERROR, _error_text(error, log)
    if not staged.is_dir():
        return Status.ERROR, "nbgrader produced no autograded notebook"
    return Status.GRADED, ""


def _raised(staged: Path, names: set[str]) -> bool:
    for path in staged.glob("*.ipynb") if staged.is_dir() else ():
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if any(o.get("output_type") == "error" and o.get("ename") in names for o in cell.get("outputs", [])):
                return True
    return False


def _exit_text(code: int) -> str:
    if code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exited with code {code}"


def _size(n: int) -> str:
    return f"{n / 2**30:.3g} GiB" if n >= 2**30 else f"{n / 2**20:.3g} MiB"


def _error_text(error: BaseException, log: str) -> str:
    """The most specific line: the last exception in nbgrader's log, else the exception itself."""
    lines = [m.group(1) for m in map(_EXCEPTION_LINE.match, log.splitlines()) if m]
    return lines[-1] if lines else (f"{type(error).__name__}: {error}".strip(": "))


@contextmanager
def _captured(buffer: io.StringIO) -> Iterator[logging.Logger]:
    """A logger for this submission's nbgrader run, written to ``buffer`` only."""
    logger = logging.getLogger("autograder.bulk.nbgrader")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logging.Formatter("[%(levelname)s] %(message)s"))
    logger.addHandler(handler)
    try:
        yield logger
    finally:
        logger.removeHandler(handler)
