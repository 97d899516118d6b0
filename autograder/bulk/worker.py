"""Grading one submission inside a long-lived worker process (a Dask task).

The submission goes through nbgrader's own ``Autograde`` converter, configured as the
``nbgrader autograde`` command would be (see :mod:`autograder.bulk.course_config`), with two
differences that do not change what the pipeline computes:

* the gradebook is a private SQLite copy of the assignment's definition, seeded with the
  student's current rows (see :mod:`autograder.bulk.gradebook_rows`);
* the kernel is forked from the worker's zygote (see :mod:`autograder.bulk.kernel_launch`).

nbgrader, Python and TensorFlow start-up are paid once per worker instead of once per
submission. The submission's deadline and memory limit are enforced here, and what happened is
classified into an :class:`~autograder.bulk.outcome.Outcome` for the coordinator. A file with
no notebook to recover (0 bytes, binary, not JSON) is recorded as a zero with its reason before
nbgrader or a kernel starts; the repairs made to a damaged but readable one are reported. A
given cell that fails with nothing of the student's before it is reported as a broken grading
environment (:mod:`autograder.bulk.environment_check`), not as the student's zero.
"""

from __future__ import annotations

import datetime
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
from nbgrader.utils import parse_utc
from traitlets.config import Config
from traitlets.utils.importstring import import_item

from ..submission_folder import (
    TIMESTAMP, FolderRefused, copy_accepted, inspect_folder, read_timestamp, student_id_problem,
)
from ..triage import REPAIRED, Unreadable, read_submission
from .course_config import CourseConfig, environment, load_course_config
from .environment_check import given_cell_failure
from .gradebook_rows import RowChanges, courses, seed, sqlite_url, student_rows
from .kernel_launch import KernelSession, forking, kernel_session
from .outcome import Job, Outcome, Status

# Error names that mean the student's code ran out of memory.
MEMORY_ERRORS = {"MemoryError", "ResourceExhaustedError"}
ALLOCATION_FAILURE_SIGNALS = {signal.SIGABRT, signal.SIGSEGV, signal.SIGBUS}
_EXCEPTION_LINE = re.compile(r"^\s*([\w.]+(?:Error|Exception|Exit)\b.*)$")
_REPAIR_LINE = re.compile(rf"^\[WARNING\] {re.escape(REPAIRED)} [^:]*: (.*)$", re.MULTILINE)


@functools.lru_cache(maxsize=1)
def _course_config(root: str, batch: str) -> CourseConfig:
    """The course configuration, loaded once per batch in this worker (``batch`` is the key)."""
    return load_course_config(Path(root))


def grade_submission(job: Job) -> Outcome:
    """Grade ``job``'s submission with nbgrader; never raises for a problem of the submission.

    The submitted folder is checked again here (it may have changed since the coordinator
    listed it) and copied, file by file without following links, into a private folder that
    nbgrader reads instead: nothing nbgrader does can then reach a link, a FIFO or a file the
    check did not accept.
    """
    started = time.perf_counter()
    course = _course_config(job.root, job.batch)
    coursedir = CourseDirectory(config=Config(course.config), root=job.root)
    submitted = Path(job.folder) if job.folder else Path(
        coursedir.format_path(coursedir.submitted_directory, job.student, job.assignment))
    scratch = Path(tempfile.mkdtemp(prefix="nn-autograder-task-"))
    try:
        snapshot = scratch / "submitted" / job.student / job.assignment
        try:
            refusal = student_id_problem(job.student)
            if refusal:
                raise FolderRefused(refusal)
            listing = inspect_folder(submitted, job.notebooks)
            copy_accepted(submitted, listing, snapshot)
            timestamp = _timestamp(snapshot)
        except FolderRefused as exc:
            return Outcome(student=job.student, digest=job.digest, status=Status.FAILED, reason=str(exc),
                           wall_s=time.perf_counter() - started)
        except ValueError as exc:  # nbgrader would stop on it too; the instructor must fix the file
            return Outcome(student=job.student, digest=job.digest, status=Status.ERROR, reason=str(exc),
                           wall_s=time.perf_counter() - started)
        unreadable = _unreadable(snapshot, listing.notebooks)
        if unreadable:
            return Outcome(student=job.student, digest=job.digest, status=Status.FAILED, reason=unreadable,
                           timestamp=timestamp, wall_s=time.perf_counter() - started)
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
                    _autograde(course, job, url, logger, scratch / "submitted")
                except (Exception, SystemExit) as exc:  # noqa: BLE001 - nbgrader reports per submission
                    error = exc
            with Gradebook(url, job.course_id) as gb:
                after = student_rows(gb, job.assignment, job.student)
                new_courses = tuple(sorted(set(courses(gb)) - set(template_courses)))
        staged = Path(job.staging) / job.student / job.assignment
        status, reason = _classify(job, session, error, log.getvalue(), staged)
        completed = error is None and staged.is_dir() and after is not None
        broken = given_cell_failure(staged, job.release, listing) if completed else ""
        if broken:
            return Outcome(student=job.student, digest=job.digest, status=Status.ERROR, reason=broken,
                           environment=True, wall_s=time.perf_counter() - started,
                           kernel_cpu_s=session.cpu_seconds())
        return Outcome(
            student=job.student, digest=job.digest, status=status, reason=reason,
            changes=RowChanges(job.before, after, new_courses) if completed else None,
            staged=str(staged) if completed else None,
            timestamp=timestamp,
            wall_s=time.perf_counter() - started, kernel_cpu_s=session.cpu_seconds())
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _unreadable(snapshot: Path, notebooks: tuple[str, ...]) -> str:
    """Why a submitted notebook holds nothing to grade, or "" (read without nbgrader or a kernel).

    Only the assignment's notebooks are read: nbgrader skips any other (an empty
    ``Untitled.ipynb`` beside a good notebook must not cost the student their grade).
    """
    for name in notebooks:
        path = snapshot / name
        try:
            with path.open("rb") as stream:
                read_submission(stream)
        except Unreadable as exc:
            return f"unreadable notebook {path.name}: {exc}"
        except OSError as exc:
            return f"unreadable notebook {path.name}: {exc.strerror or exc}"
    return ""


def _seed(url: str, job: Job) -> list[str]:
    """Seed the private gradebook; return its course ids, to spot the ones nbgrader adds."""
    with Gradebook(url, job.course_id) as gb:
        seed(gb, job.assignment, job.student, job.before)
        return courses(gb)


def _autograde(course: CourseConfig, job: Job, db_url: str, logger: logging.Logger, submitted: Path) -> None:
    """Run nbgrader's Autograde converter for one student on the checked copy ``submitted``.

    Its output goes into the staging directory.
    """
    config = Config(course.config)
    coursedir = CourseDirectory(config=config, root=job.root)
    coursedir.submitted_directory = str(submitted)  # absolute: nbgrader's path join keeps it
    coursedir.assignment_id = job.assignment
    coursedir.student_id = job.student
    coursedir.db_url = db_url
    coursedir.autograded_directory = job.staging  # absolute: nbgrader's path join keeps it
    converter = Autograde(coursedir=coursedir, config=config, log=logger)
    converter.force = True
    converter.autograde_preprocessors = [_with_forked_kernel(p) for p in converter.autograde_preprocessors]
    converter.start()


def _with_forked_kernel(preprocessor: type | str) -> type | str:
    cls = import_item(preprocessor) if isinstance(preprocessor, str) else preprocessor
    return forking(cls) if isinstance(cls, type) and issubclass(cls, Execute) else preprocessor


def _timestamp(submitted: Path) -> datetime.datetime | None:
    """The submission's ``timestamp.txt`` as nbgrader reads it (none, or empty: no timestamp).

    Raises ValueError for a file nbgrader cannot parse. nbgrader's own reader then calls a
    ``fail`` method its CourseDirectory does not have, so the only message would be an
    AttributeError; checking first gives the instructor the file and what to do. The file is
    read with a size cap and without blocking (:func:`read_timestamp`).
    """
    try:
        raw = read_timestamp(submitted)
    except FolderRefused as exc:
        raise ValueError(f"cannot read {TIMESTAMP} ({exc}): correct or delete it, then grade again") from None
    if raw is None:
        return None
    text = raw.strip()
    try:
        return parse_utc(text) if text else None
    except (ValueError, OverflowError):
        raise ValueError(f"{TIMESTAMP} is not a time nbgrader can parse ({text[:40]!r}): "
                         "correct or delete it, then grade again") from None


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
    repairs = list(dict.fromkeys(_REPAIR_LINE.findall(log)))  # several dropped cells log the same line
    return Status.GRADED, "repaired: " + "; ".join(repairs) if repairs else ""


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
