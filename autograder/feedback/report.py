"""The TA class report: one self-contained HTML file, written after grading.

``python -m autograder report`` (in a course directory, or ``--course DIR``) reads what nbgrader
recorded and writes summary statistics, a score histogram, the pass rate of each check, the
most common mistakes ranked by how many students made them (with the message the students
saw and who they are), and the submissions that could not be graded. Charts are PNG images
embedded in the file, so it can be mailed or uploaded as it is. The language is the course's
(``AUTOGRADER_LANG`` or ``LANGUAGE`` in ``nbgrader_config.py``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup

from .. import messages
from ..course import CourseError
from ..spec import ASSIGNMENT, CHECK_POINTS
from . import TEMPLATE_DIR, charts
from .markup import number, rich
from .outcomes import ClassOutcomes, CourseSettings, StudentOutcome, course_settings, load_class

DEFAULT_NAME = "class_report.html"


@dataclass(frozen=True)
class MessageVariant:
    """One wording of a mistake as students saw it (fields such as a shape differ per student)."""

    problem: Markup
    hint: Markup
    students: list[str]


@dataclass(frozen=True)
class MistakeRow:
    rank: int
    mistake_id: str
    checks: list[str]  # titles of the checks that reported it
    students: list[str]
    variants: list[MessageVariant]


def common_mistakes(outcomes: ClassOutcomes, lang: str) -> list[MistakeRow]:
    """Mistakes ranked by how many students made them (ties share a rank).

    A student counts once per mistake even when several checks report it (a missing variable
    fails every later check).
    """
    students: dict[str, set[str]] = defaultdict(set)
    checks: dict[str, set[str]] = defaultdict(set)
    variants: dict[str, dict[tuple[str, str], set[str]]] = defaultdict(lambda: defaultdict(set))
    for student in outcomes.graded:
        for check in student.failed:
            mistake = check.mistake_id
            assert mistake is not None
            students[mistake].add(student.student)
            checks[mistake].add(check.check_id)
            advice = check.advice(lang)
            assert advice is not None
            variants[mistake][advice].add(student.student)
    ranked = sorted(students, key=lambda m: (-len(students[m]), m))
    rows = []
    for mistake in ranked:
        rank = 1 + sum(len(students[other]) > len(students[mistake]) for other in ranked)
        rows.append(MistakeRow(
            rank, mistake,
            [messages.title(c, lang) for c in CHECK_POINTS if c in checks[mistake]],
            sorted(students[mistake]),
            [MessageVariant(rich(problem), rich(messages.text("check.hint", lang, hint=hint)), sorted(who))
             for (problem, hint), who in sorted(variants[mistake].items(), key=lambda kv: (-len(kv[1]), kv[0]))],
        ))
    return rows


def summary_stats(outcomes: ClassOutcomes, lang: str) -> list[tuple[str, str]]:
    """Label and value of each summary statistic (scores as "mean / full marks")."""
    scores = [s.score for s in outcomes.graded]
    full = number(outcomes.max_score)
    none = "—"

    def points(value: float) -> str:
        return f"{value:.2f} / {full}"

    rows = [
        ("report.stat.submitted", str(len(outcomes.graded) + len(outcomes.ungraded))),
        ("report.stat.graded", str(len(scores))),
        ("report.stat.ungraded", str(len(outcomes.ungraded))),
        ("report.stat.errors", str(sum(bool(s.grading_errors) for s in outcomes.graded))),
        ("report.stat.mean", points(statistics.fmean(scores)) if scores else none),
        ("report.stat.median", points(statistics.median(scores)) if scores else none),
        ("report.stat.stdev", f"{statistics.pstdev(scores):.2f}" if scores else none),
        ("report.stat.min", points(min(scores)) if scores else none),
        ("report.stat.max", points(max(scores)) if scores else none),
        ("report.stat.full_marks", str(sum(s.score >= s.max_score for s in outcomes.graded))),
    ]
    return [(messages.text(key, lang), value) for key, value in rows]


def pass_rate_rows(outcomes: ClassOutcomes, lang: str) -> list[dict[str, object]]:
    """Per check, in notebook order: title, points, how many graded students passed, and the rate."""
    rows = []
    for check_id, points in CHECK_POINTS.items():
        results = [c for s in outcomes.graded for c in s.checks if c.check_id == check_id]
        passed = sum(c.passed for c in results)
        rows.append({"title": messages.title(check_id, lang), "points": points, "passed": passed,
                     "graded": len(results), "rate": passed / len(results) if results else 0.0})
    return rows


def grading_errors_text(student: StudentOutcome, lang: str) -> str:
    """Which checks of a graded student failed because grading failed, and what the first one says."""
    errors = student.grading_errors
    problem = errors[0].advice(lang)
    assert problem is not None
    return messages.text("report.grading_errors", lang, checks=", ".join(c.title(lang) for c in errors),
                         problem=problem[0])


def build_context(settings: CourseSettings, outcomes: ClassOutcomes, now: datetime) -> dict[str, object]:
    """Everything the report template shows, in the course's language."""
    lang = settings.language
    rates = pass_rate_rows(outcomes, lang)
    t = messages.text
    return {
        "lang": lang,
        "title": t("report.title", lang, assignment=ASSIGNMENT),
        "generated": t("report.generated", lang, time=now.strftime("%Y-%m-%d %H:%M"), course=settings.root),
        "label": {key: t(f"report.{key}", lang) for key in (
            "summary", "histogram", "pass_rates", "mistakes", "no_mistakes", "ungraded", "none",
            "students", "col.check", "col.points", "col.passed", "col.rate", "col.rank", "col.mistake",
            "col.count", "col.message", "col.student", "col.score", "col.failed_checks", "col.reason")},
        "stats": summary_stats(outcomes, lang),
        "histogram": charts.score_histogram(
            [s.score for s in outcomes.graded], outcomes.max_score, title=t("report.histogram", lang),
            xlabel=t("report.histogram.x", lang, max_score=number(outcomes.max_score)),
            ylabel=t("report.histogram.y", lang)),
        "pass_rates": rates,
        "pass_rate_chart": charts.pass_rates(
            [r["title"] for r in rates], [r["rate"] for r in rates],
            title=t("report.pass_rates", lang), xlabel=t("report.pass_rates.x", lang)),
        "mistakes": common_mistakes(outcomes, lang),
        "ungraded": [(u.student, t(u.reason, lang, error=u.error)) for u in outcomes.ungraded]
                    + [(s.student, grading_errors_text(s, lang)) for s in outcomes.graded if s.grading_errors],
        "students": [(s.student, f"{number(s.score)} / {number(s.max_score)}",
                      ", ".join(c.title(lang) for c in s.failed)) for s in outcomes.graded],
    }


def render(context: dict[str, object]) -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATE_DIR), autoescape=True)
    return env.get_template("class_report.html.j2").render(**context)


def write_report(root: Path, output: Path | None = None) -> Path:
    """Write the class report of course ``root`` (default ``root/class_report.html``); return its path."""
    settings = course_settings(root)
    if settings.language == "ja" and charts.cjk_font_path() is None:
        print(f"warning: font '{charts.CJK_FAMILY}' not found (install fonts-noto-cjk); "
              "Japanese chart labels will not render", file=sys.stderr)
    context = build_context(settings, load_class(settings), datetime.now())
    path = output or root / DEFAULT_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(context), encoding="utf-8")
    return path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--course", type=Path, default=Path.cwd(),
                        help="graded course directory (default: the current directory)")
    parser.add_argument("--output", type=Path, default=None,
                        help=f"HTML file to write (default: COURSE/{DEFAULT_NAME})")


def run(args: argparse.Namespace) -> int:
    try:
        path = write_report(args.course.resolve(), args.output.resolve() if args.output else None)
    except CourseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"Class report: {path}")
    return 0
