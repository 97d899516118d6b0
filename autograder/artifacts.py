"""What passes from the student's kernel to the clean-process verdict, and how.

The grading kernel runs student code, so anything computed there can be tampered with. Only
*data* crosses over: the model in the ``.keras`` format (weights, config and optimizer state,
no code) and plain numeric arrays saved without pickle. The clean process loads the model with
Keras' ``safe_mode`` and recomputes every expected value itself.
"""

from __future__ import annotations

import io
import json
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

# MAX_MODEL_PARAMS: anything far larger than the lesson's model is not saved (it would only
# fill the disk); the clean process applies the same bound to what the saved config declares.
from .saved_model import MAX_MODEL_PARAMS
from .spec import SOLUTION_CELLS

ARRAYS = ("X_test", "predictions", "probability", "first_label", "y_predict",
          "accuracy", "eval_loss", "eval_accuracy")
INTERFACE = ("X_test", *(name for names in SOLUTION_CELLS.values() for name in names))
MODEL_FILE = "model.keras"
MANIFEST = "manifest.json"


class Unreadable:
    """Stands for a name the student defined with a value that could not be carried over.

    ``mistake_id`` (and its ``fields``) is what a check that needs the value reports: by
    default "could not be read", or a more specific reason (a model refused by
    :mod:`autograder.saved_model` names the component).
    """

    def __init__(self, name: str, reason: str, mistake_id: str = "input.unreadable",
                 fields: Mapping[str, object] | None = None) -> None:
        # One line: Keras' errors run over several, and the reason is quoted inside a sentence.
        self.name, self.reason, self.mistake_id = name, " ".join(reason.split())[:200], mistake_id
        self.fields = dict(fields or {})

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


class ArtifactError(Exception):
    """The artifact folder itself cannot be trusted (no manifest, a malformed one)."""


# Bounds on what the clean process reads: the whole X_test of full MNIST in float64 is 63 MB.
MAX_MANIFEST_BYTES = 64 << 10
MAX_ARRAY_BYTES = 128 << 20
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


class ArtifactFolder:
    """Plain files directly inside one folder, read with bounds; nothing else is reachable.

    The kernel wrote this folder, so every name in it, and every name its manifest gives, is
    untrusted. A file is opened only by a fixed name relative to the folder's descriptor
    (``dir_fd``: no absolute path or ``..`` can reach out), without following a link
    (``O_NOFOLLOW``), without blocking on a FIFO (``O_NONBLOCK``), and it must then be a
    regular file with one link and at most ``limit`` bytes.
    """

    def __init__(self, directory: Path) -> None:
        self.fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))

    def __enter__(self) -> ArtifactFolder:
        return self

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)

    def read(self, name: str, limit: int) -> bytes:
        if not _plain_name(name):
            raise ArtifactError(f"refused file name {name[:40]!r}")
        try:
            info = os.stat(name, dir_fd=self.fd, follow_symlinks=False)
        except FileNotFoundError:
            raise ArtifactError(f"{name} is missing") from None
        if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
            raise ArtifactError(f"{name} is not a plain file")
        if info.st_size > limit:
            raise ArtifactError(f"{name} has {info.st_size} bytes, more than {limit}")
        fd = os.open(name, _READ_FLAGS, dir_fd=self.fd)
        with os.fdopen(fd, "rb") as stream:
            opened = os.fstat(stream.fileno())
            if (opened.st_ino, opened.st_dev) != (info.st_ino, info.st_dev) or not stat.S_ISREG(opened.st_mode):
                raise ArtifactError(f"{name} changed while it was opened")
            data = stream.read(limit + 1)
        if len(data) > limit:
            raise ArtifactError(f"{name} grew past {limit} bytes")
        return data


def _plain_name(name: object) -> bool:
    """A bare file name: no separator, not ``.``/``..``, no control characters."""
    return (isinstance(name, str) and 0 < len(name) <= 64 and "/" not in name and "\\" not in name
            and name not in (".", "..") and not name.startswith(".") and name.isprintable())


def _manifest(raw: bytes) -> dict[str, Any]:
    """The manifest, checked against the interface: only known names, of the expected types."""
    try:
        manifest = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ArtifactError("the manifest is not JSON") from None
    if not isinstance(manifest, dict):
        raise ArtifactError("the manifest is not an object")
    present, arrays = manifest.get("present", []), manifest.get("arrays", [])
    unreadable, model = manifest.get("unreadable", {}), manifest.get("model")
    if not (isinstance(present, list) and all(n in INTERFACE for n in present)):
        raise ArtifactError("the manifest lists unknown names")
    if not (isinstance(arrays, list) and all(n in ARRAYS for n in arrays)):
        raise ArtifactError("the manifest lists unknown arrays")
    if not (isinstance(unreadable, dict) and all(n in INTERFACE and isinstance(r, str)
                                                 for n, r in unreadable.items())):
        raise ArtifactError("the manifest lists unknown unreadable names")
    if model not in (None, MODEL_FILE):
        raise ArtifactError(f"the manifest names the model file {str(model)[:40]!r}")
    return manifest


def _load_model(folder: ArtifactFolder, manifest: dict[str, Any]) -> Any:
    """The model, or an :class:`Unreadable` that names why it could not be rebuilt."""
    from . import saved_model

    try:
        loaded = saved_model.load(folder.read(MODEL_FILE, saved_model.MAX_ARCHIVE_BYTES))
    except ArtifactError as exc:
        return Unreadable("model", str(exc))
    except saved_model.ModelRefused as exc:
        return Unreadable("model", exc.reason, exc.mistake_id, exc.fields)
    except Exception as exc:  # noqa: BLE001 - anything else Keras refuses, e.g. mismatched weights
        return Unreadable("model", f"{type(exc).__name__}: {exc}")
    model = loaded.model
    saved_model.set_problems(model, loaded.problems)
    model.history = training_history(manifest.get("training"))
    return model


def load_artifacts(directory: Path) -> dict[str, Any]:
    """Rebuild the student's namespace from ``directory`` without running any student code.

    Names the student defined but that cannot be carried over (not numeric, unsaveable model)
    become :class:`Unreadable`; names the checks only test for presence (``loss_fn``) become
    plain placeholders. Only the files the manifest may name are read (see
    :class:`ArtifactFolder`); a file that is missing, a link or too large makes its name
    unreadable, and a malformed manifest raises :class:`ArtifactError`.
    """
    with ArtifactFolder(directory) as folder:
        manifest = _manifest(folder.read(MANIFEST, MAX_MANIFEST_BYTES))
        namespace: dict[str, Any] = {name: SimpleNamespace() for name in manifest.get("present", [])}
        for name in manifest.get("arrays", []):
            try:
                array = np.load(io.BytesIO(folder.read(f"{name}.npy", MAX_ARRAY_BYTES)), allow_pickle=False)
                if array.dtype.kind not in "biuf":
                    raise ArtifactError(f"not numeric ({array.dtype})")
                namespace[name] = array
            except (ArtifactError, ValueError, OSError, EOFError) as exc:
                namespace[name] = Unreadable(name, str(exc))
        for name, reason in manifest.get("unreadable", {}).items():
            namespace[name] = Unreadable(name, reason)
        if manifest.get("model"):
            namespace["model"] = _load_model(folder, manifest)
    return namespace
