"""What a check looks at: the student's names and cell sources, and the grader's own reference.

The reference is built lazily from the grader's copy of the data (the same loader the notebook
uses, memoized per process), so checks that only inspect the model never touch the data.
Expected values are always recomputed from the model on the grader's copy of ``X_test``; the
student's own arrays are used only to learn which of the two allowed preprocessings
(unchanged, or divided by 255) the notebook applied.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from .artifacts import Unreadable
from .data import MnistData, load_dataset
from .verdict import Mistake, error_text

# Which practice defines each name the checks read, for the "missing input" message.
DEFINED_IN = {
    "X_test": "data", "model": "practice10", "loss_fn": "practice10",
    "predictions": "practice11", "probability": "practice11", "first_label": "practice11",
    "y_predict": "practice12", "accuracy": "practice12", "eval_loss": "practice12",
    "eval_accuracy": "practice12",
}
# The cells in notebook order, each with the one name that shows it ran to the end. When a
# name is missing and a cell before its own did not run either, that earlier cell is the cause.
CELL_ORDER = ("data", "practice10", "practice11", "practice12")
KEY_NAME = {"data": "X_test", "practice10": "model", "practice11": "probability",
            "practice12": "y_predict"}
PREPROCESSINGS = {"raw": 1.0, "scaled": 1.0 / 255.0}


@dataclass
class Reference:
    """The grader's data, preprocessed as the notebook did, and the model's outputs on it."""

    data: MnistData
    preprocessing: str
    _outputs: dict[int, np.ndarray] = field(default_factory=dict)

    @cached_property
    def X_test(self) -> np.ndarray:
        return self.data.X_test * np.float32(PREPROCESSINGS[self.preprocessing])

    @cached_property
    def X_train(self) -> np.ndarray:
        return self.data.X_train * np.float32(PREPROCESSINGS[self.preprocessing])

    @cached_property
    def y_test(self) -> np.ndarray:
        return self.data.y_test.astype(int)

    @cached_property
    def y_train(self) -> np.ndarray:
        return self.data.y_train.astype(int)

    def outputs(self, model: Any) -> np.ndarray:
        """``model``'s raw outputs on the grader's ``X_test`` (computed once per model)."""
        key = id(model)
        if key not in self._outputs:
            try:
                self._outputs[key] = np.asarray(model.predict(self.X_test, verbose=0))
            except Exception as exc:  # noqa: BLE001 - a broken student model is a verdict, not a crash
                raise Mistake("input.model_failed", error=error_text(exc)) from None
        return self._outputs[key]


def detect_preprocessing(student_X_test: Any, data: MnistData) -> str:
    """Which allowed preprocessing turns the grader's raw ``X_test`` into the student's.

    Any other ``X_test`` is a mistake; when it is a recognisable change of the distributed data
    (scaled twice because the scaling cell ran twice, reshaped, cut to some rows), the
    mistake's fields name it (:func:`diagnose_test_data`).
    """
    try:
        student = np.asarray(student_X_test, dtype=np.float32)
    except (TypeError, ValueError):
        raise Mistake("input.test_data_changed") from None
    if student.shape == data.X_test.shape:
        for name, factor in PREPROCESSINGS.items():
            if np.allclose(student, data.X_test * np.float32(factor), rtol=1e-5, atol=1e-6):
                return name
    raise Mistake("input.test_data_changed", **diagnose_test_data(student, data))


def _magnitude(values: np.ndarray) -> float:
    return max(float(np.abs(values).max()), 1e-12) if values.size else 1e-12


def _linear_fit(student: np.ndarray, original: np.ndarray) -> tuple[float, float] | None:
    """``(a, b)`` with ``student == a * original + b`` elementwise (to float32 precision), or ``None``.

    ``b`` is returned as 0 when it is negligible next to the values.
    """
    x, y = original.astype(np.float64).ravel(), student.astype(np.float64).ravel()
    if x.size < 2 or not np.isfinite(y).all() or np.ptp(x) == 0:
        return None
    a, b = np.polyfit(x, y, 1)
    if not np.allclose(y, a * x + b, rtol=1e-4, atol=1e-5 * _magnitude(y)):
        return None
    return float(a), 0.0 if abs(b) <= 1e-6 * _magnitude(y) else float(b)


def _scaled_copy(student: np.ndarray, original: np.ndarray) -> bool:
    """``student`` is ``original`` times a positive factor (any factor)."""
    fit = _linear_fit(student, original)
    return fit is not None and fit[0] > 0 and fit[1] == 0.0


def diagnose_test_data(student: np.ndarray, data: MnistData) -> dict[str, object]:
    """Fields naming how ``student`` was made from the distributed ``X_test`` (``cause``), or nothing.

    Only used for the message: the check has already failed.
    """
    original = data.X_test
    if student.shape == original.shape:
        fit = _linear_fit(student, original)
        if fit is None:
            return {}
        a, b = fit
        if b != 0.0:
            return {"cause": "data.normalized"}
        if math.isclose(a, 255.0 ** -2, rel_tol=1e-3):
            return {"cause": "data.scaled_twice"}
        return {"cause": "data.rescaled", "factor": f"{a:.6g}"}
    if student.size == original.size and _scaled_copy(student.reshape(original.shape), original):
        return {"cause": "data.reshaped", "shape": student.shape, "expected": original.shape}
    if student.ndim == 2 and student.shape[1] == original.shape[1]:
        rows = len(student)
        if 0 < rows < len(original) and _scaled_copy(student, original[:rows]):
            return {"cause": "data.rows", "rows": rows, "expected": len(original)}
        if student.shape == data.X_train.shape and _scaled_copy(student, data.X_train):
            return {"cause": "data.training_set"}
    return {}


class Context:
    """A submission as the checks see it.

    ``errors`` gives, for each of ``sources``, the exception its run raised as
    ``{"ename", "evalue"}`` (or ``None``); it only explains failures (:mod:`autograder.crashes`).
    ``self_check`` is set for the student's visible self-check: every check runs in full
    there, and only check_accuracy reads the flag, to compare with its self-check bar instead
    of the pass mark.
    """

    def __init__(self, namespace: Mapping[str, Any], sources: Sequence[str],
                 loader: Callable[[], MnistData] = lambda: load_dataset(announce=False), *,
                 errors: Sequence[object] = (), self_check: bool = False) -> None:
        self.namespace = namespace
        self.sources = list(sources)
        self.errors = list(errors)
        self.self_check = self_check
        self._loader = loader

    def get(self, name: str) -> Any:
        """The student's value for ``name``; a missing name is a mistake, not a ``NameError``.

        If an earlier cell's result is missing too, the message names that cell: a
        ``NameError`` in Practice 12 is usually caused by Practice 11 having crashed.
        """
        if name not in self.namespace:
            cell = DEFINED_IN[name]
            for upstream_cell in CELL_ORDER[:CELL_ORDER.index(cell)]:
                upstream = KEY_NAME[upstream_cell]
                if upstream not in self.namespace:
                    raise Mistake("input.missing_upstream", name=name, cell=cell,
                                  upstream=upstream, upstream_cell=upstream_cell)
            raise Mistake("input.missing", name=name, cell=cell)
        value = self.namespace[name]
        if isinstance(value, Unreadable):  # the clean process could not carry it over
            raise Mistake(value.mistake_id, name=name, reason=value.reason,
                          **{"cell": DEFINED_IN[name], **value.fields})
        return value

    def has(self, name: str) -> bool:
        return name in self.namespace

    @cached_property
    def data(self) -> MnistData:
        return self._loader()

    @cached_property
    def reference(self) -> Reference:
        return Reference(self.data, detect_preprocessing(self.get("X_test"), self.data))
