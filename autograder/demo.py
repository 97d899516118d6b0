"""The main job: release the assignment and grade the bundled sample class, offline.

``python -m autograder demo`` builds a fresh course directory (default ``build/demo``), runs
``nbgrader generate_assignment``, submits the sample class, grades it, writes feedback and the
grades CSV, and prints a score table.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from . import course, messages
from .bulk import BatchOptions, grade_assignment
from .bulk.report import summary
from .feedback import report
from .spec import CHECK_POINTS
from .sample_class import sample_class


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dir", type=Path, default=course.REPO_ROOT / "build" / "demo",
                        help="course directory to (re)create (default: build/demo)")


def score_table(root: Path, students: list[str]) -> str:
    """One row per student: total score and a mark per check, with the first mistake id."""
    checks = list(CHECK_POINTS)
    header = ["student", "score"] + [c.removeprefix("check_") for c in checks] + ["first mistake"]
    rows = [header]
    for student in students:
        results = course.autograded_results(root, student)
        total = sum(r.score for r in results.values())
        maximum = sum(r.max_score for r in results.values())
        marks = ["✔" if results[c].score == results[c].max_score else "✘" for c in checks]
        first = next((results[c].verdict.mistake_id for c in checks
                      if results[c].verdict and not results[c].verdict.passed), "")
        rows.append([student, f"{total:g}/{maximum:g}", *marks, first or ""])
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows)


def run(args: argparse.Namespace) -> int:
    root: Path = args.dir.resolve()
    if root.exists():
        shutil.rmtree(root)
    course.create_course(root)
    print(f"Course directory: {root}")
    course.run_nbgrader(root, "generate_assignment", course.ASSIGNMENT, "--force")
    print("Released the student version: release/nn_basics/nn_basics.ipynb")
    release = course.release_notebook(root)
    students = sample_class()
    for student, answers in students.items():
        course.submit(root, student, course.fill_answers(release, answers))
    print(f"Grading {len(students)} sample submissions ...")
    graded = grade_assignment(BatchOptions(root, force=True))
    if graded.exit_code:
        print(summary(graded))
        return graded.exit_code
    course.run_nbgrader(root, "generate_feedback", course.ASSIGNMENT, "--force")
    course.run_nbgrader(root, "export", "--to", str(root / "grades.csv"))
    print()
    print(score_table(root, list(students)))
    print()
    print(f"Grades CSV: {root / 'grades.csv'}")
    print(f"Feedback:   {root / 'feedback'}/<student>/{course.ASSIGNMENT}/{course.ASSIGNMENT}.html")
    print(f"Class report: {report.write_report(root)}")
    print(f"Messages in: {messages.current_language()} (set AUTOGRADER_LANG=en for English)")
    return 0
