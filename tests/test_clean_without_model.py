"""Checks decided without the model, when the clean process could not rebuild it.

``check_first_label``, ``check_argmax_axis`` and ``check_accuracy_score`` compare the student's
own arrays with each other and with the grader's labels; they are decided on the student's
``probability`` once it is verified to be a probability table of the grader's test set. The
checks that need the model report why it could not be read. Runs on the grader's own data,
without training anything.
"""

from __future__ import annotations

import numpy as np
import pytest

from autograder.artifacts import Unreadable
from autograder.checks import run_check
from autograder.context import Context
from autograder.data import load_dataset
from autograder.spec import CHECK_POINTS

NEEDS_MODEL = ("check_architecture", "check_loss", "check_training", "check_accuracy", "check_probability")
WITHOUT_MODEL = ("check_first_label", "check_argmax_axis", "check_accuracy_score")
REFUSED = Unreadable("model", "more than 2000000 parameters", "model.too_large", {"params": 235500000, "layers": 2})


@pytest.fixture(scope="module")
def arrays():
    data = load_dataset(announce=False)
    logits = np.random.default_rng(0).normal(size=(len(data.y_test), 10))
    probability = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y_predict = probability.argmax(axis=1)
    accuracy = float(np.mean(y_predict == data.y_test.astype(int)))
    return {"X_test": data.X_test / 255.0, "model": REFUSED, "loss_fn": object(), "predictions": logits,
            "probability": probability, "first_label": np.int64(y_predict[0]), "y_predict": y_predict,
            "accuracy": accuracy, "eval_loss": 2.3, "eval_accuracy": accuracy}


def _verdicts(namespace):
    ctx = Context(namespace, ["y_predict = np.argmax(probability, axis=1)", "accuracy = accuracy_score(y_test, y_predict)"])
    return {c: run_check(c, ctx) for c in CHECK_POINTS}


def test_the_students_own_arrays_are_checked_and_the_rest_names_the_model_reason(arrays):
    verdicts = _verdicts(arrays)
    for check in NEEDS_MODEL:
        assert (verdicts[check].passed, verdicts[check].mistake_id) == (False, "model.too_large"), check
    for check in WITHOUT_MODEL:
        assert verdicts[check].passed, (check, verdicts[check])
        assert verdicts[check].notes == ("verdict.without_model",)


def test_arrays_that_disagree_with_each_other_or_the_labels_still_fail(arrays):
    verdicts = _verdicts({**arrays, "first_label": np.int64((arrays["y_predict"][0] + 1) % 10),
                          "y_predict": np.roll(arrays["y_predict"], 1), "accuracy": 0.99})
    assert verdicts["check_first_label"].mistake_id == "first_label.wrong"
    assert verdicts["check_argmax_axis"].mistake_id == "argmax.wrong_values"
    assert verdicts["check_accuracy_score"].mistake_id == "accuracy_score.mismatch"


@pytest.mark.parametrize("probability", [
    lambda p: p * 2,                     # rows do not sum to 1
    lambda p: p[:10],                    # not the grader's test set
    lambda p: np.vstack([np.full((1, 10), np.nan), p[1:]]),  # not finite
], ids=["not_normalised", "wrong_rows", "not_finite"])
def test_an_unverifiable_probability_table_decides_nothing(arrays, probability):
    verdicts = _verdicts({**arrays, "probability": probability(arrays["probability"])})
    for check in WITHOUT_MODEL:
        assert (verdicts[check].passed, verdicts[check].mistake_id) == (False, "model.too_large"), check
