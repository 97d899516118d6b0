"""The real-world corpus (``realworld.py``) through the bulk grader: every verdict and message.

The cases are graded once per session, in the same batch as ``corpus.py``
(``conftest.graded_class``). For each case and check cell: the verdict's mistake id and notes
are the expected ones, nbgrader's score agrees with the verdict, the cell shows exactly the
verdict's rendered message and nothing of a Python traceback, and a correct answer scores the
full 15 points. The corpus itself is checked too: every case names the public file (and its
commit) it was adapted from, the expected ids exist, about half the cases are correct, and no
answer is a mere renaming of another (here or in ``corpus.py``).
"""

from __future__ import annotations

import ast
import re

import pytest

from autograder import messages
from autograder.spec import CHECK_POINTS, SOLUTION_CELLS
from case_checks import (
    assert_english_messages, assert_expected_verdicts, assert_scores_follow_verdicts,
    assert_shows_rendered_message,
)
import corpus
from realworld import CASES, CORRECT, MISTAKES

SOURCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*:\S.*$")
FULL_MARKS = sum(CHECK_POINTS.values())


def _case_id(case) -> str:
    return case.name


class _Renamer(ast.NodeTransformer):
    """Gives every name a canonical one, in order of first use, so renamings compare equal."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    def _canonical(self, name: str) -> str:
        return self.names.setdefault(name, f"v{len(self.names)}")

    def visit_Name(self, node: ast.Name) -> ast.Name:
        node.id = self._canonical(node.id)
        return node

    def visit_arg(self, node: ast.arg) -> ast.arg:
        node.arg = self._canonical(node.arg)
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.FunctionDef:
        node.name = self._canonical(node.name)
        self.generic_visit(node)
        return node

    def visit_alias(self, node: ast.alias) -> ast.alias:
        if node.asname:
            node.asname = self._canonical(node.asname)
        return node


def normalised(answers: dict[str, str]) -> tuple[str, ...]:
    """The three cells' syntax trees with every name made canonical (one renamer per answer)."""
    renamer = _Renamer()
    return tuple(ast.dump(renamer.visit(ast.parse(answers[cell]))) for cell in SOLUTION_CELLS)


def test_corpus_size_sources_and_balance():
    assert len(CASES) >= 40
    names = [c.name for c in CASES]
    assert len(set(names)) == len(names)
    assert not set(names) & {c.name for c in corpus.CASES}, "names must be unique in the shared batch"
    for case in CASES:
        assert SOURCE.match(case.source), (case.name, case.source)
        assert re.fullmatch(r"[0-9a-f]{40}", case.commit), (case.name, case.commit)
        assert set(case.answers) == set(SOLUTION_CELLS), case.name
        assert set(case.expected) == set(CHECK_POINTS), case.name
        assert set(case.notes) <= {c for c, m in case.expected.items() if m is None}, case.name
    assert all(c.correct for c in CORRECT) and not any(c.correct for c in MISTAKES)
    assert 0.4 <= len(CORRECT) / len(CASES) <= 0.6, (len(CORRECT), len(MISTAKES))


def test_expected_ids_and_notes_exist():
    for case in CASES:
        for check, mistake in case.expected.items():
            assert mistake is None or mistake in messages.MISTAKES, (case.name, check, mistake)
        for check, notes in case.notes.items():
            assert set(notes) <= set(messages.NOTES), (case.name, check, notes)


def test_no_answer_is_a_renaming_of_another():
    seen: dict[tuple[str, ...], str] = {}
    others = [c for c in corpus.CASES if set(c.answers) == set(SOLUTION_CELLS)]
    for case in [*others, *CASES]:
        key = normalised(dict(case.answers))
        assert key not in seen, f"{case.name} only renames {seen[key]}"
        seen[key] = case.name


def test_renaming_is_detected():
    """The normalisation above does catch a renamed answer (so the test above can fail)."""
    case = CASES[0]
    renamed = {cell: re.sub(r"\bfirst_label\b", "label0", code) for cell, code in case.answers.items()}
    assert renamed != dict(case.answers)
    assert normalised(renamed) == normalised(dict(case.answers))


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_case_gets_the_expected_verdict_in_every_cell(graded_class, case):
    assert_expected_verdicts(graded_class.results[case.name], case)


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_case_notes_and_scores_follow_the_verdict(graded_class, case):
    results = graded_class.results[case.name]
    assert_scores_follow_verdicts(results, case)
    if case.correct:
        assert sum(result.score for result in results.values()) == FULL_MARKS


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_cell_shows_exactly_the_rendered_message_and_no_traceback(graded_class, case):
    assert_shows_rendered_message(graded_class.results[case.name])


@pytest.mark.parametrize("case", MISTAKES, ids=_case_id)
def test_failure_messages_render_in_english_too(graded_class, case):
    assert_english_messages(graded_class.results[case.name])
