"""The student's feedback page: an nbgrader preprocessor for ``nbgrader generate_feedback``.

nbgrader's own feedback renders the autograded notebook as it is, so students see the hidden
tests (nbgrader issues #917, #1363) and tracebacks from inside the grader. This preprocessor
runs after nbgrader's ``GetGrades`` (which puts each cell's score in its metadata) and leaves
only what a student should read:

* each test cell becomes its result: title, points and, if points were lost, the message and
  hint from :mod:`autograder.messages`; its source (visible and hidden tests alike) and its
  outputs are dropped, so neither test code nor the machine-readable verdict can reach the page;
* locked code cells are the instructor's set-up code: students have them in the release, and
  they import grader modules, so the page leaves them out;
* the student's own cells keep their code and outputs, but an error is reduced to the line
  number, the exception name and its message, without a traceback;
* if the submitted file had to be repaired before grading (:mod:`autograder.triage`), the page
  says what was done, so a student who lost an answer cell knows why it scored nothing.

The template ``templates/nn_feedback`` lays the result out (``nbgrader_config.py`` selects both).
"""

from __future__ import annotations

import re

from nbconvert.exporters.exporter import ResourcesDict
from nbformat import NotebookNode
from nbformat.v4 import new_output
from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor

from .. import messages
from ..course import cell_verdicts
from ..spec import SOLUTION_CELLS
from ..triage import REPAIR_TEXTS, REPAIRS_KEY
from ..verdict import VERDICT_MIME
from .markup import number, rich
from .outcomes import CheckOutcome

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# IPython names the failing line of the cell being run as "Cell In[5], line 6".
_CELL_LINE = re.compile(r"Cell In\[\d+\], line (\d+)")
# Lines of an error message that are stack frames or node dumps rather than words for people
# (TensorFlow puts a whole stack into InvalidArgumentError's message).
_NOISE = re.compile(r'^\s*File "|most recent call last|Traceback|^\s*\[\[\{\{node ')
_MAX_LINES = 6
_MAX_CHARS = 300


def readable_error(output: NotebookNode, lang: str) -> NotebookNode:
    """An error output reduced to where it happened, the exception name and its message."""
    name = output.get("ename", "Error")
    traceback = _ANSI.sub("", "\n".join(output.get("traceback", [])))
    where = _CELL_LINE.search(traceback)
    header = (messages.text("feedback.error_at_line", lang, line=where[1], name=name) if where
              else messages.text("feedback.error", lang, name=name))
    lines = _message_lines(_ANSI.sub("", output.get("evalue", "")))
    if not lines and traceback.strip():  # nbgrader's timeout error keeps its words in the traceback
        lines = _message_lines(traceback.strip().splitlines()[-1].removeprefix(f"{name}:"))
    return new_output("error", ename=name, evalue="\n".join(lines), traceback=[header, *lines])


def _message_lines(text: str) -> list[str]:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not _NOISE.search(ln)]
    return [ln if len(ln) <= _MAX_CHARS else ln[:_MAX_CHARS - 1] + "…" for ln in lines[:_MAX_LINES]]


def check_view(outcome: CheckOutcome, lang: str) -> dict[str, object]:
    """What the template shows for one check (message texts as escaped HTML with code spans)."""
    advice = outcome.advice(lang)
    return {
        "title": rich(outcome.title(lang)),
        "points": messages.text("feedback.points", lang, score=number(outcome.score),
                                max_score=number(outcome.max_score)),
        "passed": outcome.passed,
        "status": messages.text("feedback.passed" if outcome.passed else "feedback.failed", lang),
        "problem": rich(advice[0]) if advice else None,
        "hint": rich(messages.text("check.hint", lang, hint=advice[1])) if advice else None,
        "notes": [rich(messages.text("check.note", lang, note=n)) for n in outcome.notes(lang)],
    }


def _test_cell_outcome(cell: NotebookNode) -> CheckOutcome:
    grading = cell.metadata["nbgrader"]
    if "score" not in grading:
        raise RuntimeError("StudentFeedback must run after nbgrader's GetGrades preprocessor")
    verdicts = cell_verdicts(cell)
    return CheckOutcome(grading["grade_id"], float(grading["score"]), float(grading["points"]),
                        verdicts[-1] if verdicts else None)


def _cell_name(grade_id: str, lang: str) -> str:
    if grade_id in messages.TITLES:
        return messages.title(grade_id, lang)
    key = f"cell.{grade_id}"
    return messages.text(key, lang) if key in messages.TEXTS else grade_id


def repair_lines(recorded: object, lang: str) -> list[str]:
    """The repairs recorded in an autograded notebook, as sentences for the student (no repeats).

    Only well-formed entries of known kinds are shown; an answer cell put back from the release
    gets its own sentence, because that is where the student lost points.
    """
    lines: list[str] = []
    for entry in recorded if isinstance(recorded, list) else []:
        kind = entry.get("kind") if isinstance(entry, dict) else None
        cell = entry.get("cell", "") if isinstance(entry, dict) else ""
        if kind not in REPAIR_TEXTS or not isinstance(cell, str):
            continue
        if kind == "restored_cell" and cell in SOLUTION_CELLS:
            kind = "restored_answer"
        lines.append(messages.text(f"repair.{kind}", lang, cell=_cell_name(cell, lang)))
    return list(dict.fromkeys(lines))


def _student_outputs(outputs: list[NotebookNode], lang: str) -> list[NotebookNode]:
    return [readable_error(o, lang) if o.output_type == "error" else o for o in outputs
            if VERDICT_MIME not in o.get("data", {})]


class StudentFeedback(NbGraderPreprocessor):
    """Turn an autograded notebook into what the student may read (see the module docstring)."""

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict) -> tuple[NotebookNode, ResourcesDict]:
        lang = messages.current_language()
        checks = []
        cells = []
        for cell in nb.cells:
            if cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell):
                view = check_view(_test_cell_outcome(cell), lang)
                checks.append(view)
                cell.source = ""
                cell.outputs = []
                cell.metadata["feedback"] = view
            elif cell.cell_type == "code" and utils.is_locked(cell):
                continue
            elif cell.cell_type == "code":
                cell.outputs = _student_outputs(cell.outputs, lang)
            cells.append(cell)
        nb.cells = cells

        grades = resources["nbgrader"]
        resources["language_code"] = lang
        resources["feedback"] = {
            "checks": checks,
            "failed": [c for c in checks if not c["passed"]],
            "repairs": [rich(line) for line in repair_lines(nb.metadata.get(REPAIRS_KEY), lang)],
            "labels": {key: messages.text(f"feedback.{key}", lang) for key in
                       ("col_check", "col_score", "col_result", "to_fix", "all_passed", "notebook",
                        "repairs", "repairs_intro")},
            "heading": messages.text("feedback.heading", lang, assignment=grades["assignment"]),
            "total": messages.text("feedback.total", lang, score=number(grades["score"]),
                                   max_score=number(grades["max_score"])),
        }
        return nb, resources
