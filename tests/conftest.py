"""Session-wide set-up: a private HOME, offline data, and one graded course for all tests.

Grading is the expensive part (a kernel, TensorFlow and training per submission), so every
corpus submission is graded once per session and the tests read the results.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

# Jupyter, Keras and matplotlib write under $HOME; point everything at a throw-away folder
# before anything imports them. The data cache is shared by the whole session.
_SESSION_HOME = Path(tempfile.mkdtemp(prefix="nn-autograder-tests-"))
os.environ.update({
    "HOME": str(_SESSION_HOME),
    "KERAS_HOME": str(_SESSION_HOME / ".keras"),
    "MPLCONFIGDIR": str(_SESSION_HOME / ".matplotlib"),
    "IPYTHONDIR": str(_SESSION_HOME / ".ipython"),
    "JUPYTER_CONFIG_DIR": str(_SESSION_HOME / ".jupyter"),
    "AUTOGRADER_CACHE_DIR": str(_SESSION_HOME / "cache"),
    "AUTOGRADER_OFFLINE": "1",
    "AUTOGRADER_LANG": "ja",
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "TF_ENABLE_ONEDNN_OPTS": "0",
})

from autograder import course  # noqa: E402 - after the environment is set
from autograder.bulk import BatchOptions, grade_assignment  # noqa: E402
from autograder.bulk.report import summary  # noqa: E402

from corpus import CASES, SOURCE_NOTEBOOK  # noqa: E402
# --- real-world corpus (tests/realworld.py, asserted by test_realworld): graded in the same
# batch as corpus.py, so its 40 notebooks pay no second batch start-up.
from realworld import CASES as REAL_WORLD_CASES  # noqa: E402

GRADED_CASES = [*CASES, *REAL_WORLD_CASES]
# --- end of the real-world corpus addition


@dataclass(frozen=True)
class GradedCourse:
    root: Path
    results: dict[str, dict[str, course.CellResult]]  # student -> grade_id -> result


@pytest.fixture(scope="session")
def released_course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A course directory with the assignment generated from the repo's source notebook."""
    root = course.create_course(tmp_path_factory.mktemp("course"))
    course.run_nbgrader(root, "generate_assignment", course.ASSIGNMENT, "--force")
    return root


@pytest.fixture(scope="session")
def graded_class(released_course: Path) -> GradedCourse:
    """Every corpus case (corpus.py and realworld.py) submitted and autograded once."""
    root = released_course
    release = course.release_notebook(root)
    for case in GRADED_CASES:
        if case.name == SOURCE_NOTEBOOK:
            nb = nbformat.read(root / "source" / course.ASSIGNMENT / course.NOTEBOOK, as_version=4)
        else:
            nb = course.fill_answers(release, case.answers)
        course.submit(root, case.name, nb)
    report = grade_assignment(BatchOptions(root, force=True))
    assert report.exit_code == 0, summary(report)
    return GradedCourse(root, {case.name: course.autograded_results(root, case.name) for case in GRADED_CASES})
