"""Every corpus submission, graded once through real nbgrader, gets exactly the expected verdicts.

For each case and each check cell: the verdict's mistake id (``None`` for a pass) and notes are
the expected ones, nbgrader's score agrees with the verdict, and the text the student sees in the
cell is exactly the verdict's rendered message: one failure with its hint, no Python traceback.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import nbformat
import pytest

from autograder.spec import ASSIGNMENT, CHECK_POINTS, NOTEBOOK
from autograder.preprocessors import SHOWN_SELF_CHECK
from autograder.verdict import Verdict
from case_checks import (
    assert_english_messages, assert_expected_verdicts, assert_scores_follow_verdicts,
    assert_shows_rendered_message,
)
from corpus import CASES, CORRECT, MISTAKES

def _case_id(case) -> str:
    return case.name


def test_corpus_size_and_variety():
    assert len(CASES) >= 30
    assert len({c.name for c in CASES}) == len(CASES)
    assert len(CORRECT) >= 10 and all(c.correct for c in CORRECT)
    assert all(not c.correct for c in MISTAKES)
    distinct = {(check, m) for c in MISTAKES for check, m in c.expected.items() if m is not None}
    assert len(distinct) >= 20
    for case in CASES:
        assert set(case.expected) == set(CHECK_POINTS), case.name
        assert set(case.notes) <= {c for c, m in case.expected.items() if m is None}, case.name


def test_every_check_is_failed_by_some_case():
    failing = Counter(check for c in MISTAKES for check, m in c.expected.items() if m is not None)
    assert set(failing) == set(CHECK_POINTS), failing


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_case_gets_the_expected_verdict_in_every_cell(graded_class, case):
    assert_expected_verdicts(graded_class.results[case.name], case)


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_case_notes_and_scores_follow_the_verdict(graded_class, case):
    assert_scores_follow_verdicts(graded_class.results[case.name], case)


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_cell_shows_exactly_the_rendered_message_and_no_traceback(graded_class, case):
    assert_shows_rendered_message(graded_class.results[case.name])


@pytest.mark.parametrize("case", [c for c in CASES if not c.correct], ids=_case_id)
def test_failure_messages_render_in_english_too(graded_class, case):
    assert_english_messages(graded_class.results[case.name])


# --- The self-check tells the truth: README's table -----------------------------------------------

README = Path(__file__).resolve().parents[1] / "README.md"
TABLE_START = "<!-- self-check table: generated from the graded corpus, checked by tests/test_corpus.py -->"
TABLE_END = "<!-- end of the self-check table -->"


def _self_check(graded_class, case_name: str) -> dict[str, Verdict]:
    """Each check cell's self-check verdict, as the grading kernel showed it to the student.

    The grader replaces a test cell's outputs by the clean verdict and keeps the kernel's visible
    verdict in the cell's metadata (``SHOWN_SELF_CHECK``); every corpus notebook runs to its end,
    so every check cell has one.
    """
    path = graded_class.root / "autograded" / case_name / ASSIGNMENT / NOTEBOOK
    cells = [c for c in nbformat.read(path, as_version=4).cells
             if c.metadata.get("nbgrader", {}).get("grade_id") in CHECK_POINTS]
    return {c.metadata.nbgrader.grade_id: Verdict.from_json(c.metadata["autograder"][SHOWN_SELF_CHECK])
            for c in cells}


def _label(verdict: Verdict) -> str:
    if verdict.passed:
        return "✔"
    cause = verdict.fields.get("cause")
    return f"`{verdict.mistake_id}`" + (f" ← `{cause}`" if cause else "")


def _agree(self_check: Verdict, graded: Verdict) -> bool:
    if self_check.passed or graded.passed:
        return self_check.passed == graded.passed
    if graded.mistake_id == "accuracy.below_threshold":
        return self_check.mistake_id == "accuracy.far_below"
    return (self_check.mistake_id, self_check.fields) == (graded.mistake_id, graded.fields)


def test_readme_table_self_check_and_grading_agree_on_every_corpus_mistake(graded_class):
    rows = ["| case | check | self-check says | grading says |", "|---|---|---|---|"]
    for case in CASES:
        self_checks = _self_check(graded_class, case.name)
        for check_id in CHECK_POINTS:
            self_check, graded = self_checks[check_id], graded_class.results[case.name][check_id].verdict
            assert graded is not None
            assert _agree(self_check, graded), (case.name, check_id, self_check, graded)
            expected = case.expected[check_id]  # the hidden test's verdict, as the corpus documents it
            said = None if self_check.passed else self_check.mistake_id
            assert said == ("accuracy.far_below" if expected == "accuracy.below_threshold" else expected), \
                (case.name, check_id, self_check)
            if not graded.passed and not case.correct:
                rows.append(f"| `{case.name}` | {check_id} | {_label(self_check)} | {_label(graded)} |")
    table = "\n".join(rows)
    text = README.read_text(encoding="utf-8")
    assert TABLE_START in text and TABLE_END in text
    shown = text.split(TABLE_START, 1)[1].split(TABLE_END, 1)[0].strip()
    assert shown == table, "README's table is out of date; it should read:\n" + table
