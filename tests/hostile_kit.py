"""Building blocks of the hostile corpus, shared by its modules (``hostile*.py``).

A hostile case is a submission with the verdict every check cell must reach, the flag, and
how the bulk grader records it. Each attack family lives in a module of its own; ``hostile``
collects them into one list, graded in one batch by ``test_hostile``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from autograder.course import solution_answers
from autograder.sample_class import variant
from autograder.spec import CHECK_POINTS

SOLUTION = solution_answers()
P10, P11, P12 = SOLUTION["practice10"], SOLUTION["practice11"], SOLUTION["practice12"]
AXIS0 = variant(SOLUTION, "practice12", "axis=1", "axis=0")
NO_SOFTMAX = variant(SOLUTION, "practice11", "softmax(predictions, axis=1)", "predictions")
NOT_FITTED = variant(SOLUTION, "practice10", "model.fit(X_train, y_train, epochs=5)", "")

Mutation = Callable[[nbformat.NotebookNode], None]


@dataclass(frozen=True)
class HostileCase:
    name: str
    answers: dict[str, str]
    expected: dict[str, str | None]
    flagged: bool = False  # the clean-process verdict disagreed with the kernel's, or could not verify
    mutate: Mutation | None = field(default=None, compare=False)
    # Changes the submitted folder after the notebook is written: (folder, course root) -> None.
    prepare: Callable[[Path, Path], None] | None = field(default=None, compare=False)
    failure: str | None = None  # the bulk grader records a zero with a reason starting so

    def expected_points(self) -> float:
        return sum(p for c, p in CHECK_POINTS.items() if self.expected[c] is None)


def expect(**mistakes: str) -> dict[str, str | None]:
    return {c: mistakes.get(c) for c in CHECK_POINTS}


def everything(mistake: str) -> dict[str, str | None]:
    return {c: mistake for c in CHECK_POINTS}


