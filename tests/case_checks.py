"""Assertions shared by the two graded corpora (``corpus.py`` and ``realworld.py``).

Both are graded in one batch (``conftest.graded_class``) and judged by the same rules, so the
rules live here once: the verdicts, the scores nbgrader recorded, and what the student sees.
"""

from __future__ import annotations

from autograder.spec import CHECK_POINTS
from autograder.verdict import Verdict

TRACEBACK_MARKERS = ("Traceback", 'File "', "NameError")


def assert_expected_verdicts(results: dict, case) -> None:
    """Every check cell published its own verdict, with the mistake id the case expects."""
    assert set(results) == set(CHECK_POINTS)
    got = {}
    for check_id, result in results.items():
        assert result.verdict is not None, f"{check_id}: no verdict published"
        assert result.verdict.check_id == check_id
        got[check_id] = None if result.verdict.passed else result.verdict.mistake_id
    assert got == case.expected


def assert_scores_follow_verdicts(results: dict, case) -> None:
    """A pass carries the case's notes and full points, a failure zero; the total is the case's."""
    for check_id, result in results.items():
        verdict = result.verdict
        assert verdict is not None
        if verdict.passed:
            assert verdict.notes == case.notes.get(check_id, ()), check_id
            assert result.score == result.max_score == CHECK_POINTS[check_id], check_id
        else:
            assert result.score == 0, check_id
    assert sum(result.score for result in results.values()) == case.expected_points()


def assert_shows_rendered_message(results: dict) -> None:
    """The cell shows the verdict's Japanese lines: one failure line and its hint, no traceback.

    The message itself may name the exception a student's cell raised, so only the rest of the
    output is searched for Python's own error report.
    """
    for check_id, result in results.items():
        verdict = result.verdict
        assert verdict is not None
        shown = result.output
        expected = "\n".join(verdict.lines())  # the session runs in Japanese (conftest)
        assert expected in shown, (check_id, shown)
        lines = [ln for ln in shown.splitlines() if ln.strip()]
        if verdict.passed:
            assert not any(ln.startswith("✘") for ln in lines), (check_id, shown)
        else:
            assert [ln for ln in lines if ln.startswith("✘")] == [verdict.lines()[0]], (check_id, shown)
            rest = shown.replace(expected, "")
            for marker in TRACEBACK_MARKERS:
                assert marker not in rest, (check_id, marker, shown)


def assert_english_messages(results: dict) -> None:
    """Each failure also renders in English, and survives the verdict's JSON round trip."""
    for result in results.values():
        verdict = result.verdict
        if verdict is None or verdict.passed:
            continue
        problem, hint = verdict.lines("en")[:2]
        assert problem.startswith("✘ ") and hint.startswith("Hint: ")
        assert Verdict.from_json(verdict.to_json()).lines("en")[:2] == [problem, hint]
