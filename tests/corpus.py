"""The corpus of submissions with the verdict every check cell must reach.

Each case is a set of answers for the three solution cells plus the expected mistake id of
every check (``None`` = the check passes). The whole corpus is graded once per test session
through real nbgrader (see ``conftest.graded_class``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from autograder.course import Answers
from autograder.sample_class import sample_class
from autograder.spec import CHECK_POINTS

# The submission that is the instructor's source notebook itself, not a filled-in release.
SOURCE_NOTEBOOK = "source_notebook"


@dataclass(frozen=True)
class Case:
    name: str
    answers: Answers
    expected: dict[str, str | None] = field(default_factory=dict)

    def expected_points(self) -> float:
        return sum(p for c, p in CHECK_POINTS.items() if self.expected[c] is None)


def expect(**mistakes: str) -> dict[str, str | None]:
    """Expected verdicts: the named checks fail with the given mistake ids, all others pass."""
    unknown = set(mistakes) - set(CHECK_POINTS)
    if unknown:
        raise KeyError(f"unknown checks {sorted(unknown)}")
    return {c: mistakes.get(c) for c in CHECK_POINTS}


_SAMPLE = sample_class()

CASES: list[Case] = [
    Case(SOURCE_NOTEBOOK, {}, expect()),
    Case("s01_correct", _SAMPLE["s01_correct"], expect()),
    Case("s02_argmax_axis0", _SAMPLE["s02_argmax_axis0"], expect(
        check_argmax_axis="argmax.axis0",
        # accuracy_score(y_test, y_predict) raises on 10 predictions, so `accuracy` is never defined
        check_accuracy_score="input.missing")),
    Case("s03_from_logits_false", _SAMPLE["s03_from_logits_false"], expect(
        check_loss="loss.logits_need_from_logits",
        check_accuracy="accuracy.below_threshold")),
    Case("s04_dense1", _SAMPLE["s04_dense1"], expect(
        check_architecture="architecture.wrong_units",
        # fit fails at once: a label of 9 is out of range for a single output
        check_training="training.not_fitted",
        check_accuracy="architecture.wrong_units",
        check_probability="probability.wrong_shape",
        # evaluate fails the same way, so `eval_accuracy` is never defined
        check_accuracy_score="input.missing")),
    Case("s05_no_softmax", _SAMPLE["s05_no_softmax"], expect(
        check_probability="probability.is_logits")),
    Case("s06_not_fitted", _SAMPLE["s06_not_fitted"], expect(
        check_training="training.not_fitted",
        check_accuracy="accuracy.below_threshold")),
    Case("s07_hidden_layer", _SAMPLE["s07_hidden_layer"], expect(
        check_architecture="architecture.extra_layers")),
    Case("s08_blank", _SAMPLE["s08_blank"], {c: "input.missing" for c in CHECK_POINTS}),
]
