"""Is the student's Python able to run the lesson? Checked by the notebook's first cell.

The student package does not require TensorFlow: installing it would put a second build on top
of the student's own (Colab's ``tensorflow``, a laptop's ``tensorflow`` or ``tensorflow-macos``);
``tensorflow`` and ``tensorflow-cpu`` write into the same folder, and the mix fails to import.
So the versions are checked here instead, from the installed packages' metadata, without
importing TensorFlow, and a missing or too old one is explained in the student's language.

The minimums are the oldest versions the test suite runs the release with
(``tests/test_student_env.py``): TensorFlow 2.16 is the first release whose ``tf.keras`` is
Keras 3, which the checks read models with.
"""

from __future__ import annotations

import importlib.util
import re
from importlib import metadata

from . import messages

MIN_TENSORFLOW = (2, 16)
MIN_KERAS = (3, 3)
# Distributions that install the ``tensorflow`` module; any of them will do.
TENSORFLOW_DISTRIBUTIONS = ("tensorflow", "tensorflow-cpu", "tensorflow-macos", "tensorflow-intel",
                            "tensorflow-gpu", "tf-nightly", "tf-nightly-cpu")
# The unrelated PyPI package that also installs a top-level ``autograder`` module: with both
# installed, each overwrites the other's files (``autograder/__init__.py``, ``__main__.py``).
CLASHING_DISTRIBUTION = "autograder"
DISTRIBUTION = "nn-basics-autograder"


class EnvironmentProblem(Exception):
    """The environment cannot run the lesson; the message says what to install.

    Shown by IPython as the message alone (like a failed check), because the student's next
    step is in it and a traceback through this module would bury it.
    """

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines

    def _render_traceback_(self) -> list[str]:
        return self.lines


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _release(version: str) -> tuple[int, ...]:
    """``(2, 16)`` from ``"2.16.2"``, ``"2.16.0rc1"`` or ``"3.3.3.dev2024"``."""
    return tuple(int(part) for part in re.findall(r"\d+", version)[:2])


def tensorflow_version() -> str | None:
    """The installed TensorFlow's version, from whichever distribution provides it."""
    for name in TENSORFLOW_DISTRIBUTIONS:
        version = _version(name)
        if version is not None:
            return version
    return None


def problems(lang: str | None = None) -> list[str]:
    """Every reason this environment cannot run the lesson, as sentences (empty: all is well)."""
    found = []
    if _version(CLASHING_DISTRIBUTION) is not None:
        found.append(messages.text("env.clashing_autograder", lang, name=CLASHING_DISTRIBUTION))
    tf_version = tensorflow_version()
    if tf_version is None and importlib.util.find_spec("tensorflow") is None:
        found.append(messages.text("env.no_tensorflow", lang, minimum=_dotted(MIN_TENSORFLOW)))
    elif tf_version is not None and _release(tf_version) < MIN_TENSORFLOW:
        found.append(messages.text("env.old_tensorflow", lang, version=tf_version,
                                   minimum=_dotted(MIN_TENSORFLOW)))
    keras_version = _version("keras")  # only worth a word once TensorFlow itself is new enough
    if (tf_version is not None and _release(tf_version) >= MIN_TENSORFLOW and keras_version is not None
            and _release(keras_version) < MIN_KERAS):
        found.append(messages.text("env.old_keras", lang, version=keras_version, minimum=_dotted(MIN_KERAS)))
    for module, requirement in (("numpy", "numpy"), ("scipy", "scipy"), ("sklearn", "scikit-learn")):
        if importlib.util.find_spec(module) is None:
            found.append(messages.text("env.missing_package", lang, module=module, requirement=requirement))
    return found


def check_environment() -> None:
    """Raise :class:`EnvironmentProblem` naming what to install when the lesson cannot run.

    Prints nothing when all is well, so the graded notebook's first cell has no output.
    """
    found = problems()
    if found:
        raise EnvironmentProblem([messages.text("env.header"), *(f"- {line}" for line in found)])


def _dotted(version: tuple[int, ...]) -> str:
    return ".".join(map(str, version))
