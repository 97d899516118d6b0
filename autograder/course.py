"""A course directory for the assignment: create it, put submissions in it, run nbgrader in it.

The demo, the tests and the bulk grader all need the same steps, so they live here once. Every
grading step goes through nbgrader itself (its command line), never a re-implementation.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .spec import ASSIGNMENT, NOTEBOOK, SOLUTION_CELLS
from .verdict import Verdict, output_verdict

REPO_ROOT = Path(__file__).resolve().parents[1]

Answers = Mapping[str, str]  # solution grade_id -> code the student wrote


class CourseError(Exception):
    """A course step failed; the message says which and why."""


def grading_env() -> dict[str, str]:
    """Environment for nbgrader and its kernels.

    nbgrader runs ``alembic`` in a subprocess, so this interpreter's ``bin/`` must be on PATH;
    TensorFlow's log silencing must be set before the kernel imports it.
    """
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    return env


def create_course(root: Path, repo: Path = REPO_ROOT) -> Path:
    """Make ``root`` a course directory: the repo's config and source notebook, nothing else."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy2(repo / "nbgrader_config.py", root / "nbgrader_config.py")
    shutil.copytree(repo / "source", root / "source", dirs_exist_ok=True)
    return root


def run_nbgrader(root: Path, *args: str, timeout: float | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``nbgrader ARGS`` in course ``root``; raise :class:`CourseError` with its log on failure."""
    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=root, env=grading_env(),
                          capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise CourseError(f"nbgrader {' '.join(args)} failed (exit {proc.returncode}):\n{tail}")
    return proc


def solution_answers(repo: Path = REPO_ROOT) -> dict[str, str]:
    """The instructor's solution code for each solution cell, without nbgrader's markers."""
    nb = nbformat.read(repo / "source" / ASSIGNMENT / NOTEBOOK, as_version=4)
    answers = {}
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in SOLUTION_CELLS:
            lines = [ln for ln in cell.source.splitlines() if "### BEGIN SOLUTION" not in ln
                     and "### END SOLUTION" not in ln]
            answers[grade_id] = "\n".join(lines)
    return answers


def fill_answers(release: nbformat.NotebookNode, answers: Answers) -> nbformat.NotebookNode:
    """A copy of the student release with the given solution cells filled in."""
    nb = nbformat.from_dict(release)
    unknown = set(answers) - set(SOLUTION_CELLS)
    if unknown:
        raise CourseError(f"unknown solution cells: {sorted(unknown)}")
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    return nb


def submit(root: Path, student: str, nb: nbformat.NotebookNode) -> Path:
    """Place ``nb`` as ``student``'s submission, as ``nbgrader collect`` would."""
    path = root / "submitted" / student / ASSIGNMENT / NOTEBOOK
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def release_notebook(root: Path) -> nbformat.NotebookNode:
    return nbformat.read(root / "release" / ASSIGNMENT / NOTEBOOK, as_version=4)


@dataclass(frozen=True)
class CellResult:
    """One graded cell of one student: nbgrader's score and the text the student saw."""

    score: float
    max_score: float
    output: str
    verdict: Verdict | None  # the deciding verdict: the self-check's if it failed, else the hidden test's


def autograded_results(root: Path, student: str, db_url: str | None = None) -> dict[str, CellResult]:
    """Scores from the gradebook and outputs from ``autograded/``, per grade cell.

    ``db_url`` names the gradebook when the course keeps it elsewhere than nbgrader's default
    ``root/gradebook.db`` (e.g. PostgreSQL).
    """
    from nbgrader.api import Gradebook

    nb = nbformat.read(root / "autograded" / student / ASSIGNMENT / NOTEBOOK, as_version=4)
    outputs: dict[str, str] = {}
    verdicts: dict[str, Verdict] = {}
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("grade") and cell.cell_type == "code":
            outputs[grade_id] = "\n".join(_output_text(o) for o in cell.get("outputs", []))
            found = cell_verdicts(cell)
            if found:
                verdicts[grade_id] = found[-1]
    results = {}
    with Gradebook(db_url or f"sqlite:///{root / 'gradebook.db'}") as gb:
        submission = gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student)
        for grade in submission.grades:
            results[grade.name] = CellResult(grade.score, grade.max_score, outputs.get(grade.name, ""),
                                             verdicts.get(grade.name))
    return results


def cell_verdicts(cell: Mapping) -> list[Verdict]:
    """The machine-readable verdicts a test cell published, in order.

    A payload that is not a verdict (a student can display anything under the verdict's MIME
    type) is skipped rather than crashing the reader; the clean process decides anyway.
    """
    verdicts = []
    for output in cell.get("outputs", []):
        payload = output_verdict(output)
        if payload is None:
            continue
        try:
            verdicts.append(Verdict.from_json(payload))
        except (KeyError, TypeError, ValueError):
            continue
    return verdicts


def _output_text(output: Mapping) -> str:
    if output.get("output_type") == "stream":
        return str(output.get("text", ""))
    if output.get("output_type") == "error":
        return "\n".join(output.get("traceback", []))
    return str(output.get("data", {}).get("text/plain", ""))  # a verdict's text is empty


def autograde(root: Path, students: Sequence[str] | None = None) -> None:
    """Autograde the given students (default: every submission) with plain ``nbgrader autograde``."""
    args = ["autograde", ASSIGNMENT, "--create", "--force"]
    if students is None:
        run_nbgrader(root, *args)
    else:
        for student in students:
            run_nbgrader(root, *args, "--student", student)
