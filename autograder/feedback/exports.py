"""Grade exports for other systems, written after grading.

``python -m autograder export`` (in a course directory, or ``--course DIR``) writes into
``--output-dir`` (default ``COURSE/exports``):

* ``grades.csv`` - nbgrader's own grades CSV, unchanged (``nbgrader export``);
* ``checks.csv`` - one row per student and check: points, full points, passed, mistake id;
* ``gradescope/<student>/results.json`` - Gradescope's autograder ``results.json`` shape
  (score, and per check: name, score, max_score, status, output, visibility), for courses that
  collect grades there. The output text is the message and hint the student saw.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from .. import course, messages
from .markup import number
from .outcomes import ClassOutcomes, StudentOutcome, course_settings, load_class

CHECK_COLUMNS = ("student", "check_id", "score", "max_score", "passed", "mistake_id")


@dataclass(frozen=True)
class ExportPaths:
    grades_csv: Path
    checks_csv: Path
    gradescope_dir: Path
    gradescope_files: list[Path]


def write_checks_csv(outcomes: ClassOutcomes, path: Path) -> Path:
    """One row per graded student and check; ``mistake_id`` is empty for a passed check."""
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(CHECK_COLUMNS)
        for student in outcomes.graded:
            for check in student.checks:
                writer.writerow([student.student, check.check_id, check.score, check.max_score,
                                 int(check.passed), check.mistake_id or ""])
    return path


def gradescope_results(student: StudentOutcome, lang: str) -> dict[str, object]:
    """Gradescope's ``results.json`` for one graded student."""
    return {
        "score": student.score,
        "output": messages.text("feedback.total", lang, score=number(student.score),
                                max_score=number(student.max_score)),
        "tests": [{
            "name": check.title(lang),
            "score": check.score,
            "max_score": check.max_score,
            "status": "passed" if check.passed else "failed",
            "output": "\n".join(check.lines(lang)),
            "visibility": "visible",
        } for check in student.checks],
    }


def write_gradescope(outcomes: ClassOutcomes, folder: Path, lang: str) -> list[Path]:
    """``folder/<student>/results.json`` for every submission; an ungraded one scores 0 and says so."""
    paths = []
    results = {s.student: gradescope_results(s, lang) for s in outcomes.graded}
    results.update({u.student: {"score": 0, "output": messages.text("feedback.not_graded", lang), "tests": []}
                    for u in outcomes.ungraded})
    for student, data in sorted(results.items()):
        path = folder / student / "results.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
        paths.append(path)
    return paths


def write_exports(root: Path, out_dir: Path | None = None) -> ExportPaths:
    """Write all exports of course ``root`` into ``out_dir`` (default ``root/exports``)."""
    settings = course_settings(root)
    outcomes = load_class(settings)
    out_dir = out_dir or root / "exports"
    out_dir.mkdir(parents=True, exist_ok=True)
    grades = out_dir / "grades.csv"
    course.run_nbgrader(root, "export", "--to", str(grades))
    gradescope = out_dir / "gradescope"
    return ExportPaths(grades, write_checks_csv(outcomes, out_dir / "checks.csv"), gradescope,
                       write_gradescope(outcomes, gradescope, settings.language))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--course", type=Path, default=Path.cwd(),
                        help="graded course directory (default: the current directory)")
    parser.add_argument("--output-dir", type=Path, default=None,
                        help="folder to write into (default: COURSE/exports)")


def run(args: argparse.Namespace) -> int:
    try:
        paths = write_exports(args.course.resolve(), args.output_dir.resolve() if args.output_dir else None)
    except course.CourseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"Grades CSV:    {paths.grades_csv}")
    print(f"Per-check CSV: {paths.checks_csv}")
    print(f"Gradescope:    {paths.gradescope_dir}/<student>/results.json ({len(paths.gradescope_files)} students)")
    return 0
