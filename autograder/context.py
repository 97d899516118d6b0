"""What a check looks at: the student's names and cell sources, and the grader's own reference.

The reference is built lazily from the grader's copy of the data (the same loader the notebook
uses, memoized per process), so checks that only inspect the model never touch the data.
Expected values are always recomputed from the model on the grader's copy of ``X_test``; the
student's own arrays are used only to learn which of the two allowed preprocessings
(unchanged, or divided by 255) the notebook applied.
"""

from __future__ import annotations

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
    """Which allowed preprocessing turns the grader's raw ``X_test`` into the student's."""
    try:
        student = np.asarray(student_X_test, dtype=np.float32)
    except (TypeError, ValueError):
        raise Mistake("input.test_data_changed") from None
    if student.shape == data.X_test.shape:
        for name, factor in PREPROCESSINGS.items():
            if np.allclose(student, data.X_test * np.float32(factor), rtol=1e-5, atol=1e-6):
                return name
    raise Mistake("input.test_data_changed")


class Context:
    """A submission as the checks see it."""

    def __init__(self, namespace: Mapping[str, Any], sources: Sequence[str],
                 loader: Callable[[], MnistData] = lambda: load_dataset(announce=False)) -> None:
        self.namespace = namespace
        self.sources = list(sources)
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
            raise Mistake(value.mistake_id, name=name, reason=value.reason, **value.fields)
        return value

    def has(self, name: str) -> bool:
        return name in self.namespace

    @cached_property
    def data(self) -> MnistData:
        return self._loader()

    @cached_property
    def reference(self) -> Reference:
        return Reference(self.data, detect_preprocessing(self.get("X_test"), self.data))
