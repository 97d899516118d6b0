"""The bundled sample class: a few submissions that the demo grades offline.

One correct answer and the typical mistakes TAs see in this lesson. Each mistake is written as
a small edit of the instructor's solution, so the sample follows the source notebook when the
solution changes; an edit that no longer applies fails loudly instead of silently grading the
solution twice.
"""

from __future__ import annotations

from .course import Answers, solution_answers


class SampleError(Exception):
    """A sample edit no longer matches the solution it is meant to change."""


def variant(base: Answers, cell: str, old: str, new: str) -> dict[str, str]:
    """``base`` with ``old`` replaced by ``new`` in solution cell ``cell``."""
    if old not in base[cell]:
        raise SampleError(f"{cell!r} no longer contains {old!r}")
    return {**base, cell: base[cell].replace(old, new)}


def sample_class() -> dict[str, Answers]:
    """Student id -> answers. An empty mapping is the untouched release stub."""
    sol = solution_answers()
    return {
        "s01_correct": sol,
        "s02_argmax_axis0": variant(sol, "practice12", "axis=1", "axis=0"),
        "s03_from_logits_false": variant(sol, "practice10", "from_logits=True", "from_logits=False"),
        "s04_dense1": variant(sol, "practice10", "Dense(10)", "Dense(1)"),
        "s05_no_softmax": variant(sol, "practice11", "softmax(predictions, axis=1)", "predictions"),
        "s06_not_fitted": variant(sol, "practice10", "model.fit(X_train, y_train, epochs=5)", ""),
        "s07_hidden_layer": variant(sol, "practice10", "tf.keras.layers.Dense(10)",
                                    "tf.keras.layers.Dense(128, activation='relu'),\n    tf.keras.layers.Dense(10)"),
        "s08_blank": {},
    }
