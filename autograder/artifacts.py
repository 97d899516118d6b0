"""What passes from the student's kernel to the clean-process verdict, and how.

The grading kernel runs student code, so anything computed there can be tampered with. Only
*data* crosses over: the model in the ``.keras`` format (weights, config and optimizer state,
no code) and plain numeric arrays saved without pickle. The clean process loads the model with
Keras' ``safe_mode`` and recomputes every expected value itself.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from .spec import SOLUTION_CELLS

ARRAYS = ("X_test", "predictions", "probability", "first_label", "y_predict",
          "accuracy", "eval_loss", "eval_accuracy")
INTERFACE = ("X_test", *(name for names in SOLUTION_CELLS.values() for name in names))
MODEL_FILE = "model.keras"
MANIFEST = "manifest.json"
# A Dense(10) on 784 inputs has 7 850 parameters; anything far larger is not this lesson's
# model, and saving it would only fill the disk.
MAX_MODEL_PARAMS = 2_000_000


class Unreadable:
    """Stands for a name the student defined with a value that could not be carried over."""

    def __init__(self, name: str, reason: str) -> None:
        self.name, self.reason = name, reason

    def __repr__(self) -> str:
        return f"<unreadable {self.name}: {self.reason}>"


def _training_record(model: Any) -> dict[str, Any]:
    """The model's training history, as Keras keeps it after ``fit``, for the manifest.

    This is the student's own record (their code can rewrite ``model.history``), so the clean
    process only cross-checks it; see :class:`autograder.model_facts.TrainingRecord`.
    """
    from .model_facts import read_record

    return read_record(getattr(model, "history", None)).to_json()


def training_history(record: object) -> Any:
    """The manifest's training record, validated, to stand in for ``model.history`` after loading."""
    from .model_facts import TrainingRecord

    return TrainingRecord.from_json(record)


def save_artifacts(namespace: Mapping[str, Any], directory: str) -> None:
    """Called in the kernel after the student's cells: save the interface names to ``directory``."""
    import keras

    out = Path(directory)
    manifest: dict[str, Any] = {"present": [n for n in INTERFACE if n in namespace],
                                "arrays": [], "unreadable": {}, "model": None, "training": None}
    for name in ARRAYS:
        if name not in namespace:
            continue
        try:
            array = np.array(namespace[name])
            if array.dtype.kind not in "biuf":
                raise TypeError(f"not numeric ({type(namespace[name]).__name__})")
            np.save(out / f"{name}.npy", array, allow_pickle=False)
            manifest["arrays"].append(name)
        except Exception as exc:  # noqa: BLE001 - any odd student value is recorded, not fatal
            manifest["unreadable"][name] = f"{type(exc).__name__}: {exc}"[:200]
    model = namespace.get("model")
    if isinstance(model, keras.Model):
        try:
            if model.built and model.count_params() > MAX_MODEL_PARAMS:
                raise ValueError(f"{model.count_params()} parameters")
            model.save(out / MODEL_FILE)
            manifest["model"] = MODEL_FILE
            manifest["training"] = _training_record(model)
        except Exception as exc:  # noqa: BLE001
            manifest["unreadable"]["model"] = f"{type(exc).__name__}: {exc}"[:200]
    elif "model" in namespace:
        manifest["unreadable"]["model"] = f"not a Keras model ({type(model).__name__})"
    tmp = out / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest), encoding="utf-8")
    os.replace(tmp, out / MANIFEST)


def load_artifacts(directory: Path) -> dict[str, Any]:
    """Rebuild the student's namespace from ``directory`` without running any student code.

    Names the student defined but that cannot be carried over (not numeric, unsaveable model)
    become :class:`Unreadable`; names the checks only test for presence (``loss_fn``) become
    plain placeholders.
    """
    import keras

    manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    namespace: dict[str, Any] = {name: SimpleNamespace() for name in manifest["present"]}
    for name in manifest["arrays"]:
        namespace[name] = np.load(directory / f"{name}.npy", allow_pickle=False)
    for name, reason in manifest["unreadable"].items():
        namespace[name] = Unreadable(name, reason)
    if manifest["model"]:
        try:
            model = keras.models.load_model(directory / manifest["model"], safe_mode=True)
        except Exception as exc:  # noqa: BLE001 - e.g. a Lambda layer refused by safe_mode
            namespace["model"] = Unreadable("model", f"{type(exc).__name__}: {exc}"[:200])
        else:
            model.history = training_history(manifest.get("training"))
            namespace["model"] = model
    return namespace
