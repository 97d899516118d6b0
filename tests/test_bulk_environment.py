"""A broken grading environment is not a student's mistake, and a student cannot fake one."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder import course
from autograder.bulk import BatchOptions, grade_assignment
from autograder.bulk.batch import ENVIRONMENT_BROKEN, EnvironmentBroken
from autograder.bulk.environment_check import given_cell_failure, release_cells
from autograder.submission_folder import inspect_folder
from bulk_support import fresh_course, gradebook_tables, submit, tree

RELEASE = course.REPO_ROOT / "release" / course.ASSIGNMENT / course.NOTEBOOK
IMPORT_ERROR = nbformat.v4.new_output("error", ename="ModuleNotFoundError", evalue="No module named 'autograder'",
                                      traceback=[])


def _graded(tmp_path: Path, edit, side_file: bool = False) -> tuple[Path, object]:
    """An 'autograded' copy of the release with ``edit`` applied, and its submitted folder's listing."""
    nb = nbformat.read(RELEASE, as_version=4)
    edit(nb)
    staged = tmp_path / "staged"
    staged.mkdir()
    nbformat.write(nb, staged / course.NOTEBOOK)
    submitted = tmp_path / "submitted"
    submitted.mkdir()
    nbformat.write(nb, submitted / course.NOTEBOOK)
    if side_file:
        (submitted / "numpy.py").write_text("raise ImportError")
    return staged, inspect_folder(submitted, (course.ASSIGNMENT,))


def _cell(nb, grade_id):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def _setup_fails(nb) -> None:
    _cell(nb, "setup").outputs = [IMPORT_ERROR]


def test_a_failing_given_cell_with_nothing_of_the_student_before_it_is_the_environment(tmp_path):
    staged, listing = _graded(tmp_path, _setup_fails)
    reason = given_cell_failure(staged, release_cells([RELEASE]), listing)
    assert reason == (
        "grading environment broken, not a student mistake: the given cell 'setup' failed in the grading kernel "
        "(ModuleNotFoundError: No module named 'autograder'); make the packages the notebook imports "
        "(TensorFlow, scikit-learn, autograder) importable in the grading kernel; the sandbox hides the course "
        "folder, so install them outside it, then grade again")


def test_the_release_s_own_unlocked_cell_above_a_failing_given_cell_is_not_the_student_s(tmp_path):
    def labels_fail(nb):
        _cell(nb, "labels").outputs = [nbformat.v4.new_output("error", ename="ValueError", evalue="bad", traceback=[])]
    staged, listing = _graded(tmp_path, labels_fail)
    assert "the given cell 'labels' failed" in given_cell_failure(staged, release_cells([RELEASE]), listing)


def test_a_student_cell_above_the_failing_given_cell_makes_it_the_student_s(tmp_path):
    def poison_first(nb):
        _setup_fails(nb)
        nb.cells.insert(0, nbformat.v4.new_code_cell("import sys\nsys.modules['autograder'] = None"))
    staged, listing = _graded(tmp_path, poison_first)
    assert given_cell_failure(staged, release_cells([RELEASE]), listing) == ""


def test_an_edited_free_cell_above_the_failing_given_cell_makes_it_the_student_s(tmp_path):
    def edit_scaling(nb):
        free = next(c for c in nb.cells if c.cell_type == "code" and not c.metadata.get("nbgrader"))
        free.source = "del y_train"
        _cell(nb, "labels").outputs = [nbformat.v4.new_output("error", ename="NameError", evalue="y_train", traceback=[])]
    staged, listing = _graded(tmp_path, edit_scaling)
    assert given_cell_failure(staged, release_cells([RELEASE]), listing) == ""


def test_a_cell_posing_as_a_given_cell_does_not_count(tmp_path):
    def fake_given(nb):
        fake = nbformat.v4.new_code_cell("raise ImportError('no')")
        fake.metadata["nbgrader"] = {"grade_id": "setup", "locked": True, "solution": False, "grade": False}
        fake.outputs = [IMPORT_ERROR]
        nb.cells.insert(0, fake)
    staged, listing = _graded(tmp_path, fake_given)
    assert given_cell_failure(staged, release_cells([RELEASE]), listing) == ""


def test_a_file_beside_the_notebook_makes_a_failing_import_the_student_s(tmp_path):
    staged, listing = _graded(tmp_path, _setup_fails, side_file=True)
    assert given_cell_failure(staged, release_cells([RELEASE]), listing) == ""


def test_a_failing_answer_cell_is_never_the_environment(tmp_path):
    def answer_fails(nb):
        _cell(nb, "practice10").outputs = [IMPORT_ERROR]
    staged, listing = _graded(tmp_path, answer_fails)
    assert given_cell_failure(staged, release_cells([RELEASE]), listing) == ""


@pytest.fixture
def course_without_data(released_course, tmp_path) -> Path:
    """A course whose configuration points the grading kernel at a data file that does not exist."""
    root = fresh_course(released_course, tmp_path / "course")
    with (root / "nbgrader_config.py").open("a") as config:
        config.write("\nos.environ['AUTOGRADER_MNIST'] = '/nonexistent/mnist.npz'\n")
    submit(root, "s01", course.solution_answers())
    submit(root, "s02", {})
    return root


def test_a_missing_data_file_stops_the_batch_at_the_start_and_records_nothing(course_without_data):
    root = course_without_data
    before_tables, before_tree = gradebook_tables(root / "gradebook.db"), tree(root / "submitted")
    with pytest.raises(EnvironmentBroken) as info:
        grade_assignment(BatchOptions(root=root, workers=1, progress=io.StringIO()))
    message = str(info.value)
    # The grader's own verdict loads the data too, so nbgrader cannot finish the release at all.
    assert message.startswith("grading environment broken, not a student mistake: the released notebook "
                              "could not be graded (autograder.data.DataError: ")
    assert "/nonexistent/mnist.npz" in message and "AUTOGRADER_MNIST or MNIST_PATH" in message
    assert "\n" not in message
    assert gradebook_tables(root / "gradebook.db") == before_tables
    assert tree(root / "submitted") == before_tree
    assert not (root / "autograded").exists()
    ledger = root / ".nn-autograder" / course.ASSIGNMENT / "ledger.jsonl"
    assert not ledger.exists() or ledger.read_text() == ""

    proc = subprocess.run([sys.executable, "-m", "autograder", "grade", "--course", str(root), "--workers", "1"],
                          capture_output=True, text=True, env=course.grading_env())
    assert proc.returncode == ENVIRONMENT_BROKEN
    assert proc.stderr.strip().splitlines()[-1].startswith("nn-autograder grade: grading environment broken")
    assert "Traceback" not in proc.stderr
