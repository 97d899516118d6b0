"""Per student and check: the points nbgrader recorded and the reason the check gave.

The feedback page, the class report and the exports all answer the same question, so it is
answered once here. Points come from the gradebook, so a TA's manual override counts; the
reason comes from the verdict the test cell published (see :mod:`autograder.verdict`). A
check that lost points without a failed verdict (the cell timed out, the kernel died, or the
check itself crashed) gets the pseudo mistake :data:`NO_RESULT` instead of a guess.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .. import course, messages
from ..spec import ASSIGNMENT, CHECK_POINTS, NOTEBOOK
from ..verdict import Verdict

# Mistake id of a check that scored less than full marks without reporting why.
NO_RESULT = "grading.no_result"
# Mistake ids that describe a failure of grading rather than of the answer: the one above and
# the clean-process verification family (autograder.preprocessors: the kernel stopped early,
# or the re-check did not finish). TAs must look at these submissions themselves.
GRADING_ERROR_PREFIX = "verification."

# Why a submission has no graded outcome: text key of the report's explanation.
MISSING = "report.ungraded.missing"
RECORDED_ZERO = "report.ungraded.recorded_zero"  # the bulk grader recorded 0, e.g. the kernel died
NOT_GRADED = "report.ungraded.not_graded"  # the bulk grader could not grade it at all
NOT_IN_GRADEBOOK = "report.ungraded.not_in_gradebook"
UNREADABLE = "report.ungraded.unreadable"


@dataclass(frozen=True)
class CheckOutcome:
    """One check of one student."""

    check_id: str
    score: float
    max_score: float
    verdict: Verdict | None  # the deciding verdict the test cell published, if any

    @property
    def passed(self) -> bool:
        return self.score >= self.max_score

    @property
    def mistake_id(self) -> str | None:
        """Why points were lost: the verdict's mistake id, :data:`NO_RESULT`, or ``None`` if passed."""
        if self.passed:
            return None
        if self.verdict is not None and not self.verdict.passed:
            return self.verdict.mistake_id
        return NO_RESULT

    @property
    def grading_error(self) -> bool:
        """Points were lost because grading failed, not because of a mistake in the answer."""
        mistake = self.mistake_id
        return mistake is not None and (mistake == NO_RESULT or mistake.startswith(GRADING_ERROR_PREFIX))

    def title(self, lang: str) -> str:
        return messages.title(self.check_id, lang)

    def advice(self, lang: str) -> tuple[str, str] | None:
        """``(problem, hint)`` as the student reads them; ``None`` for a passed check."""
        mistake = self.mistake_id
        if mistake is None:
            return None
        if mistake == NO_RESULT:
            return messages.text("feedback.no_result", lang), messages.text("feedback.no_result_hint", lang)
        assert self.verdict is not None
        return messages.mistake_text(mistake, lang, **self.verdict.fields)

    def notes(self, lang: str) -> list[str]:
        """Remarks on the verdict: an accepted variant of the lesson's form, or an overridden kernel verdict."""
        if self.verdict is None:
            return []
        return [messages.note_text(note, lang) for note in self.verdict.notes]

    def lines(self, lang: str) -> list[str]:
        """The check's result as plain text lines, in the wording of the notebook's own output."""
        title = self.title(lang)
        advice = self.advice(lang)
        if advice is None:
            out = [messages.text("check.passed", lang, title=title)]
        else:
            out = [messages.text("check.failed", lang, title=title, problem=advice[0]),
                   messages.text("check.hint", lang, hint=advice[1])]
        return out + [messages.text("check.note", lang, note=n) for n in self.notes(lang)]


def ordered(checks: Iterable[CheckOutcome]) -> tuple[CheckOutcome, ...]:
    """Checks in notebook order (the order of :data:`~autograder.spec.CHECK_POINTS`)."""
    order = {check_id: i for i, check_id in enumerate(CHECK_POINTS)}
    return tuple(sorted(checks, key=lambda c: order[c.check_id]))


@dataclass(frozen=True)
class StudentOutcome:
    """A graded submission: every check, in notebook order."""

    student: str
    checks: tuple[CheckOutcome, ...]

    @property
    def score(self) -> float:
        return sum(c.score for c in self.checks)

    @property
    def max_score(self) -> float:
        return sum(c.max_score for c in self.checks)

    @property
    def failed(self) -> list[CheckOutcome]:
        return [c for c in self.checks if not c.passed]

    @property
    def grading_errors(self) -> list[CheckOutcome]:
        return [c for c in self.checks if c.grading_error]


@dataclass(frozen=True)
class Ungraded:
    """A submission without a graded outcome, and why (a text key of the report)."""

    student: str
    reason: str
    error: str = ""


@dataclass(frozen=True)
class ClassOutcomes:
    graded: list[StudentOutcome]
    ungraded: list[Ungraded]

    @property
    def max_score(self) -> float:
        """Full marks of the assignment (from the gradebook, else from the spec)."""
        return self.graded[0].max_score if self.graded else float(sum(CHECK_POINTS.values()))


@dataclass(frozen=True)
class CourseSettings:
    """What the course's ``nbgrader_config.py`` selects, as nbgrader itself reads it."""

    root: Path
    db_url: str
    language: str


def course_settings(root: Path) -> CourseSettings:
    """Load ``root/nbgrader_config.py`` the way nbgrader does and read the gradebook URL and language.

    The config file chooses the language by setting ``AUTOGRADER_LANG`` unless it is already
    set, and may point the gradebook elsewhere (``c.CourseDirectory.db_url``). Executing it is
    the only faithful reading; this process's environment is restored afterwards.
    """
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config
    from traitlets.config.loader import ConfigFileNotFound, PyFileConfigLoader

    saved = os.environ.copy()
    try:
        try:
            config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
        except ConfigFileNotFound:
            config = Config()
        language = messages.current_language()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    coursedir = CourseDirectory(config=config, root=str(root))
    return CourseSettings(root, coursedir.db_url, language)


def _submitted_students(root: Path, db_url: str) -> list[str]:
    """Everyone with a submission: in ``submitted/``, in ``autograded/`` or in the gradebook."""
    from nbgrader.api import Gradebook

    students = {p.parent.name for folder in ("submitted", "autograded")
                for p in (root / folder).glob(f"*/{ASSIGNMENT}") if p.is_dir()}
    with Gradebook(db_url) as gb:
        students.update(s.student_id for s in gb.assignment_submissions(ASSIGNMENT))
    return sorted(students)


def _bulk_outcomes(root: Path) -> dict[str, Ungraded]:
    """Why the bulk grader left a student without an autograded notebook, from its ledger.

    Without this, a submission the bulk grader recorded as zero (a crash, a timeout, an
    unreadable file) would show only "no autograded notebook", and TAs would have to dig
    through the grader's output for the reason.
    """
    from ..bulk.ledger import Ledger, ledger_path
    from ..bulk.outcome import Status

    keys = {Status.FAILED: RECORDED_ZERO, Status.ERROR: NOT_GRADED}
    latest = Ledger(ledger_path(root, ASSIGNMENT)).latest()
    return {student: Ungraded(student, keys[entry.status], entry.reason)
            for student, entry in latest.items() if entry.status in keys}


def load_class(settings: CourseSettings) -> ClassOutcomes:
    """Every submission of the course: graded outcomes and the submissions that have none."""
    from nbgrader.api import MissingEntry

    sqlite_file = settings.db_url.removeprefix("sqlite:///")
    if sqlite_file != settings.db_url and not Path(sqlite_file).is_file():
        # Opening a missing SQLite gradebook would silently create an empty one.
        raise course.CourseError(f"{settings.root} has no gradebook ({sqlite_file}): run nbgrader autograde first")

    graded: list[StudentOutcome] = []
    ungraded: list[Ungraded] = []
    bulk = _bulk_outcomes(settings.root)
    for student in _submitted_students(settings.root, settings.db_url):
        if not (settings.root / "autograded" / student / ASSIGNMENT / NOTEBOOK).is_file():
            ungraded.append(bulk.get(student, Ungraded(student, MISSING)))
            continue
        try:
            results = course.autograded_results(settings.root, student, db_url=settings.db_url)
        except MissingEntry:
            ungraded.append(Ungraded(student, NOT_IN_GRADEBOOK))
            continue
        except ValueError as exc:  # nbformat's NotJSONError and friends
            ungraded.append(Ungraded(student, UNREADABLE, str(exc)))
            continue
        graded.append(StudentOutcome(student, ordered(
            CheckOutcome(check_id, r.score, r.max_score, r.verdict) for check_id, r in results.items())))
    return ClassOutcomes(graded, ungraded)
