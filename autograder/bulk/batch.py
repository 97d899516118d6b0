"""One batch: grade every (new or changed) submission of an assignment on a Dask cluster.

The coordinator (this module, in the process that runs the command) validates the input
before writing anything, plans which submissions need grading, keeps a bounded number of
tasks in flight on the cluster, and records each outcome as it arrives (see
:mod:`autograder.bulk.gradebook_writer`). Ctrl-C stops dispatching, records what the workers
had already finished, and leaves everything else for the next run.

Before the class is dispatched, one probe grades the released notebook itself through the
same worker and kernel path: when the grading environment is broken (the kernel cannot import
the package, the data is missing), that is said once, in one line, and nothing is graded.
Folders refused by the checks of :mod:`autograder.submission_folder` are recorded as zeros
here, without a worker.

State kept in the course directory, under ``.nn-autograder/<assignment>/``: the ledger, the
graders it was written by (``graders.json``), a lock held for the whole batch, the last
batch's worker logs (``logs/``) and, during a batch only, the gradebook template, the probe's
folder and the staging folder.
"""

from __future__ import annotations

import collections
import fcntl
import os
import shutil
import signal
import threading
import time
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TextIO

import sqlalchemy as sa
from distributed import Future, as_completed
from nbgrader.coursedir import CourseDirectory
from traitlets.config import Config

from .cluster import ClusterError, dask_client, total_threads
from .course_config import CourseConfig, environment, load_course_config
from .environment_check import ReleaseCells, pipeline_reason, release_cells
from .grader_identity import GraderHistory, GraderIdentity, grader_identity
from .gradebook_rows import export_assignment
from .gradebook_writer import GradebookWriter, with_busy_timeout
from .kernel_preload import imported_modules
from .ledger import Entry, Ledger, ledger_path, state_dir
from .outcome import Job, Outcome, Status
from .progress import Progress
from .submissions import Submission, assignment_notebooks, find_submissions
from .worker import grade_submission

DEFAULT_TIMEOUT = 1800.0  # seconds per submission; nbgrader's own per-cell timeout still applies
MIN_IN_FLIGHT = 2  # tasks queued even before a remote cluster reports its workers
INTERRUPTED = 130  # exit status after Ctrl-C, as shells report SIGINT
ENVIRONMENT_BROKEN = 3  # exit status when the probe finds the grading environment broken
PROBE_STUDENT = "nn-autograder-probe"  # the probe's student id, in a private gradebook only


class BulkInputError(Exception):
    """Unusable input (course, assignment, options); the message is the one line the user sees."""


class EnvironmentBroken(BulkInputError):
    """The released notebook cannot be graded here: every submission would fail the same way."""


@dataclass(frozen=True)
class BatchOptions:
    root: Path
    assignment: str | None = None
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    students: str | None = None  # shell-style pattern on student ids
    force: bool = False
    timeout: float | None = DEFAULT_TIMEOUT
    memory_limit: int | None = None  # bytes of address space per kernel
    db_url: str | None = None
    scheduler: str | None = None
    progress: TextIO | None = None  # default: stderr


@dataclass(frozen=True)
class ReportRow:
    student: str
    status: Status | None  # None: not reached before an interruption
    reason: str = ""
    score: float | None = None
    max_score: float | None = None


@dataclass
class BatchReport:
    assignment: str
    rows: list[ReportRow]
    interrupted: bool
    elapsed_s: float
    notes: list[str] = field(default_factory=list)  # e.g. why unchanged submissions are re-graded
    stopped: str = ""  # why the batch stopped early (a broken grading environment)

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return INTERRUPTED
        return 1 if self.stopped or any(r.status is Status.ERROR for r in self.rows) else 0


@dataclass(frozen=True)
class _Course:
    """Everything validated about the course before anything is written."""

    config: CourseConfig
    coursedir: CourseDirectory
    db_url: str
    assignment: str
    course_id: str
    submissions: list[Submission]
    grader: GraderIdentity  # who grades now: part of every submission's resume key
    notebooks: tuple[str, ...]  # the assignment's notebook names
    release: list[Path]  # the released notebooks: the probe grades them
    release_code: ReleaseCells


def grade_assignment(options: BatchOptions) -> BatchReport:
    """Run one batch; raises :class:`BulkInputError` for unusable input (nothing is written then)."""
    started = time.monotonic()
    warnings.filterwarnings("ignore", category=sa.exc.SAWarning)  # nbgrader's own ORM noise
    course = _validate(options)
    state = state_dir(course.config.root, course.assignment)
    with environment(course.config.env), _batch_lock(state):
        ledger = Ledger(ledger_path(course.config.root, course.assignment))
        history = GraderHistory(state / "graders.json")
        writer = GradebookWriter(course.db_url, course.course_id, course.assignment, _autograded_path(course))
        try:
            todo, rows, notes = _plan(course, ledger, writer, options.force, history)
            history.remember(course.grader)
            progress = Progress(len(todo), options.progress)
            for note in notes:
                progress.note(note)
            interrupted, stopped = False, ""
            try:
                for sub in [s for s in todo if s.refusal]:  # refused folders: a zero, no worker
                    with _sigint_deferred():
                        _record(Outcome(sub.student, sub.digest, Status.FAILED, sub.refusal), ledger, writer,
                                progress, rows, course.grader.digest)
                todo = [s for s in todo if not s.refusal]
                if todo:
                    interrupted, stopped = _run(course, options, state, ledger, writer, todo, rows, progress)
            finally:
                progress.close()
        finally:
            writer.close()
    order = {s.student: i for i, s in enumerate(course.submissions)}
    ordered = sorted(rows.values(), key=lambda r: order[r.student])
    return BatchReport(course.assignment, ordered, interrupted, time.monotonic() - started, notes, stopped)


# --- validation: read-only --------------------------------------------------------------


def _validate(options: BatchOptions) -> _Course:
    root = options.root.expanduser().resolve()
    if not root.is_dir():
        raise BulkInputError(f"course directory not found: {options.root}")
    try:
        config = load_course_config(root)
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - a broken nbgrader_config.py, reported in one line
        raise BulkInputError(f"cannot load the nbgrader configuration of {root}: {exc}") from None
    coursedir = CourseDirectory(config=Config(config.config), root=str(root))
    db_url = options.db_url or coursedir.db_url
    assignments = _gradebook_assignments(db_url)
    assignment = options.assignment or coursedir.assignment_id or (
        next(iter(assignments)) if len(assignments) == 1 else None)
    if assignment is None:
        raise BulkInputError(f"name the assignment to grade; the gradebook has: {', '.join(sorted(assignments))}")
    if assignment not in assignments:
        known = ", ".join(sorted(assignments)) or "none"
        raise BulkInputError(f"unknown assignment {assignment!r} (in the gradebook: {known}); "
                             f"run `nbgrader generate_assignment {assignment}` first")
    submissions = find_submissions(coursedir, assignment, options.students)
    if not submissions:
        where = coursedir.format_path(coursedir.submitted_directory, "*", assignment)
        matching = f" for students matching {options.students!r}" if options.students else ""
        raise BulkInputError(f"no submissions of {assignment}{matching} in {where}")
    release = sorted(Path(coursedir.format_path(coursedir.release_directory, ".", assignment)).glob("*.ipynb"))
    return _Course(config, coursedir, db_url, assignment, assignments[assignment], submissions,
                   grader_identity(root), assignment_notebooks(coursedir, assignment), release,
                   _release_code(release))


def _release_code(release: list[Path]) -> ReleaseCells:
    try:
        return release_cells(release)
    except Exception as exc:  # noqa: BLE001 - nbformat raises many kinds for a damaged file
        raise BulkInputError(f"cannot read the released notebook ({type(exc).__name__}: {exc}): "
                             "run `nbgrader generate_assignment` again") from None


def _gradebook_assignments(db_url: str) -> dict[str, str]:
    """Assignment name -> course id, read without creating anything.

    nbgrader's Gradebook creates missing tables (and SQLite creates a missing file) on
    connect, so a mistyped path would leave an empty gradebook behind; plain SQL does not.
    """
    try:
        url = sa.engine.make_url(db_url)
    except sa.exc.ArgumentError:
        raise BulkInputError(f"not a database URL: {db_url}") from None
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():
        raise BulkInputError(f"no gradebook at {url.database}: run `nbgrader generate_assignment` first")
    try:
        engine = sa.create_engine(with_busy_timeout(db_url))
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table("assignment"):
                raise BulkInputError(f"{url.render_as_string()} is not an nbgrader gradebook")
            rows = conn.execute(sa.text("SELECT name, course_id FROM assignment")).all()
        engine.dispose()
    except (sa.exc.SQLAlchemyError, ImportError) as exc:
        raise BulkInputError(f"cannot read the gradebook {url.render_as_string()}: "
                             f"{str(exc).splitlines()[0]}") from None
    return {name: course_id for name, course_id in rows}


# --- planning ------------------------------------------------------------------------------


def _autograded_path(course: _Course):
    def path(student: str) -> Path:
        return Path(course.coursedir.format_path(course.coursedir.autograded_directory, student, course.assignment))
    return path


def _plan(course: _Course, ledger: Ledger, writer: GradebookWriter, force: bool,
          history: GraderHistory) -> tuple[list[Submission], dict[str, ReportRow], list[str]]:
    """Split the submissions into those to grade and those whose recorded grade still stands.

    A grade stands only for the grader that computed it: an unchanged submission graded by
    another grader (different checks, thresholds, messages or configuration) is re-graded, and
    the returned notes say why.
    """
    latest = ledger.latest()
    in_gradebook = {s.student.id for s in writer.gb.assignment_submissions(course.assignment)}
    todo, rows = [], {}
    stale_grader: collections.Counter[str] = collections.Counter()
    for sub in course.submissions:
        entry = latest.get(sub.student)
        if not sub.has_notebook:
            rows[sub.student] = ReportRow(sub.student, Status.SKIPPED, "no notebook in the submission")
        elif not force and entry is not None and _still_valid(entry, sub, in_gradebook, writer):
            if entry.grader == course.grader.digest:
                rows[sub.student] = ReportRow(sub.student, Status.SKIPPED, f"unchanged since {entry.at}",
                                              entry.score, entry.max_score)
                continue
            stale_grader[entry.grader] += 1
            todo.append(sub)
            rows[sub.student] = ReportRow(sub.student, None)
        else:
            todo.append(sub)
            rows[sub.student] = ReportRow(sub.student, None)
    known = history.load()
    notes = [_regrade_note(n, known.get(digest), course.grader) for digest, n in sorted(stale_grader.items())]
    return todo, rows, notes


def _regrade_note(count: int, earlier: GraderIdentity | None, now: GraderIdentity) -> str:
    what = ", ".join(now.differences(earlier)) if earlier else "its files were not recorded"
    return (f"re-grading {count} unchanged submission{'s' if count != 1 else ''}: "
            f"the grader changed since {'it was' if count == 1 else 'they were'} graded ({what})")


def _still_valid(entry: Entry, sub: Submission, in_gradebook: set[str], writer: GradebookWriter) -> bool:
    """The recorded outcome is of these files and is still in place (the grader is checked apart)."""
    return (entry.digest == sub.digest and entry.status in (Status.GRADED, Status.FAILED)
            and sub.student in in_gradebook
            and (entry.status is Status.FAILED or writer.autograded(sub.student).is_dir()))


# --- running ------------------------------------------------------------------------------


def _run(course: _Course, options: BatchOptions, state: Path, ledger: Ledger, writer: GradebookWriter,
         todo: list[Submission], rows: dict[str, ReportRow], progress: Progress) -> tuple[bool, str]:
    """Grade ``todo``; fill ``rows``; return (interrupted, why it stopped early or "")."""
    batch = uuid.uuid4().hex[:12]
    _clear_leftovers(state)
    template = state / f"template-{batch}.db"
    staging = state / "staging" / batch
    staging.mkdir(parents=True)
    export_assignment(writer.gb, course.assignment, template)
    preload = imported_modules(Path(course.coursedir.format_path(
        course.coursedir.source_directory, ".", course.assignment)).glob("*.ipynb"))
    pending = collections.deque(todo)
    futures: dict[Future, Submission] = {}
    stopped = ""

    def job(student: str, digest: str, before, folder: str | None = None) -> Job:
        return Job(str(course.config.root), course.assignment, course.course_id, student, digest, batch,
                   str(template), str(staging), before, preload, options.timeout or None,
                   options.memory_limit, course.notebooks, course.release_code, folder)

    try:
        with dask_client(options.scheduler, options.workers, state / "logs") as client:
            _probe(client, course, state / "probe" / batch, job)
            finished = as_completed()

            def dispatch() -> None:
                limit = max(2 * total_threads(client), MIN_IN_FLIGHT)
                while pending and not stopped and finished.count() < limit:
                    sub = pending.popleft()
                    future = client.submit(grade_submission, job(sub.student, sub.digest, writer.rows(sub.student)),
                                           key=f"grade-{batch}-{sub.student}", pure=False, retries=1)
                    futures[future] = sub
                    finished.add(future)

            try:
                dispatch()
                for future in finished:
                    outcome = _outcome(future, futures.pop(future))
                    if outcome.environment:  # every later submission would fail the same way
                        stopped = outcome.reason
                        progress.note(f"stopped: {stopped}")
                        rows[outcome.student] = ReportRow(outcome.student, Status.ERROR, outcome.reason)
                        with _sigint_deferred():
                            _record_finished(futures, ledger, writer, progress, rows, course.grader.digest)
                        client.cancel(list(futures))
                        break
                    with _sigint_deferred():
                        _record(outcome, ledger, writer, progress, rows, course.grader.digest)
                    dispatch()
            except KeyboardInterrupt:
                with _sigint_deferred():
                    _record_finished(futures, ledger, writer, progress, rows, course.grader.digest)
                    client.cancel(list(futures))
                return True, stopped
    except ClusterError as exc:
        raise BulkInputError(str(exc)) from None
    finally:
        template.unlink(missing_ok=True)
        shutil.rmtree(staging.parent, ignore_errors=True)
        shutil.rmtree(state / "probe", ignore_errors=True)
    return False, stopped


def _probe(client, course: _Course, folder: Path, job) -> None:
    """Grade the released notebook through the same worker and kernel path; raise if that fails.

    The release runs only the instructor's code (its answer cells raise NotImplementedError
    at once), so any failure of its given cells, or of the pipeline itself, is the grading
    environment's: every submission would fail the same way. It costs one short grading per
    batch. Without a release (``nbgrader generate_assignment`` not run) there is nothing to probe.
    """
    if not course.release:
        return
    submitted = folder / course.assignment
    submitted.mkdir(parents=True)
    for notebook in course.release:
        shutil.copyfile(notebook, submitted / notebook.name)
    try:
        outcome = client.submit(grade_submission, job(PROBE_STUDENT, "probe", None, str(submitted)),
                                key=f"probe-{folder.name}", pure=False).result()
    except Exception as exc:  # noqa: BLE001 - a worker that cannot even run the task
        raise EnvironmentBroken(f"grading environment broken: the probe task failed on a worker "
                                f"({type(exc).__name__}: {exc}); fix the workers, then grade again") from None
    if outcome.environment:
        raise EnvironmentBroken(outcome.reason)
    if outcome.status is not Status.GRADED:
        raise EnvironmentBroken(pipeline_reason(outcome.reason or outcome.status.value))


def _record_finished(futures: dict[Future, Submission], ledger: Ledger, writer: GradebookWriter,
                     progress: Progress, rows: dict[str, ReportRow], grader: str) -> None:
    """Record what the workers already finished before the batch stops (an environment failure is not)."""
    for future in [f for f in futures if f.done()]:
        outcome = _outcome(future, futures.pop(future))
        if not outcome.environment:
            _record(outcome, ledger, writer, progress, rows, grader)


def _outcome(future: Future, sub: Submission) -> Outcome:
    try:
        return future.result()
    except Exception as exc:  # noqa: BLE001 - a lost worker or a bug: this submission is not graded
        return Outcome(sub.student, sub.digest, Status.ERROR, f"grading task failed: {type(exc).__name__}: {exc}")


def _record(outcome: Outcome, ledger: Ledger, writer: GradebookWriter, progress: Progress,
            rows: dict[str, ReportRow], grader: str) -> None:
    score = max_score = None
    status, reason = outcome.status, outcome.reason
    try:
        score, max_score = writer.record(outcome)
    except Exception as exc:  # noqa: BLE001 - e.g. the gradebook stayed locked: report, go on
        status = Status.ERROR
        reason = f"could not record the grade: {type(exc).__name__}: {str(exc).splitlines()[0]}"
    ledger.append(outcome, status, reason, score, max_score, grader)
    rows[outcome.student] = ReportRow(outcome.student, status, reason, score, max_score)
    detail = reason if status is not Status.GRADED else f"{score:g}/{max_score:g}" if score is not None else ""
    progress.advance(outcome.student, status, detail)


def _clear_leftovers(state: Path) -> None:
    """Templates and staged files of earlier batches that were killed before cleaning up."""
    for template in state.glob("template-*.db"):
        template.unlink(missing_ok=True)
    for folder in ("staging", "logs", "probe"):
        shutil.rmtree(state / folder, ignore_errors=True)


@contextmanager
def _batch_lock(state: Path) -> Iterator[None]:
    """One batch per assignment at a time: two would grade and record the same submissions."""
    state.mkdir(parents=True, exist_ok=True)
    with (state / "lock").open("a") as handle:
        if not _try_lock(handle):
            raise BulkInputError(f"another grading run of this assignment is in progress ({state / 'lock'})")
        yield


def _try_lock(handle: IO[str]) -> bool:
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@contextmanager
def _sigint_deferred() -> Iterator[None]:
    """Hold Ctrl-C while one outcome is recorded, so a gradebook commit and its ledger line go together."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = []
    previous = signal.signal(signal.SIGINT, lambda *_: received.append(True))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if received:
            raise KeyboardInterrupt
