"""A class of 20 through the bulk grader on a real two-worker Dask cluster: failures, resume.

The class mixes correct and wrong submissions from the corpus (whose scores are known) with a
kernel crash, a memory hog, a notebook that is not JSON, a submission nbgrader refuses (its
timestamp.txt cannot be parsed) and a folder without a notebook. It is
graded once without interruption, and once with Ctrl-C (SIGINT to the grader process) halfway,
then resumed: both must end with the same gradebook and autograded notebooks.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from distributed import LocalCluster

from autograder import course
from autograder.bulk import BatchOptions, grade_assignment
from autograder.bulk.batch import INTERRUPTED
from autograder.bulk.outcome import Status
from autograder.sample_class import variant
from bulk_support import fresh_course, gradebook_tables, normalized_notebook, submit, tree
from corpus import CASES, SOURCE_NOTEBOOK

MEMORY_LIMIT = "4G"
GRADED = [c for c in CASES if c.name != SOURCE_NOTEBOOK][:15]
SOLUTION = next(c for c in CASES if c.name != SOURCE_NOTEBOOK and c.expected_points() == 15).answers
CRASH = variant(SOLUTION, "practice11", "predictions = model.predict(X_test)", "import os; os._exit(3)")
MEMORY_HOG = variant(SOLUTION, "practice10", "model.fit(X_train, y_train, epochs=5)", "hog = bytearray(8 * 2**30)")
HANG = variant(SOLUTION, "practice10", "model.fit(X_train, y_train, epochs=5)", "import time; time.sleep(3600)")


@pytest.fixture(scope="module")
def cluster():
    """A real Dask cluster of two worker processes, shared by the batches of this module."""
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      memory_limit=0) as local:
        yield local.scheduler_address


@pytest.fixture(scope="module")
def class_of_20(released_course, tmp_path_factory) -> Path:
    """The class, submitted but not graded (copy it before grading)."""
    root = fresh_course(released_course, tmp_path_factory.mktemp("class20") / "course")
    for case in GRADED:
        submit(root, case.name, case.answers)
    submit(root, "x_crash", CRASH)
    submit(root, "x_memory_hog", MEMORY_HOG)
    broken = root / "submitted" / "x_not_json" / course.ASSIGNMENT
    broken.mkdir(parents=True)
    (broken / course.NOTEBOOK).write_text("{ this is not a notebook")
    submit(root, "x_bad_timestamp", SOLUTION, timestamp="sometime last week")
    empty = root / "submitted" / "x_no_notebook" / course.ASSIGNMENT
    empty.mkdir(parents=True)
    (empty / "answers.txt").write_text("I forgot the notebook")
    return root


def _copy(root: Path, dest: Path) -> Path:
    shutil.copytree(root, dest)
    return dest


def _options(root: Path, scheduler: str, **extra) -> BatchOptions:
    return BatchOptions(root=root, scheduler=scheduler, memory_limit=4 * 2**30, progress=io.StringIO(), **extra)


@pytest.fixture(scope="module")
def uninterrupted(class_of_20, cluster, tmp_path_factory):
    root = _copy(class_of_20, tmp_path_factory.mktemp("uninterrupted") / "course")
    return root, grade_assignment(_options(root, cluster))


def test_every_submission_gets_its_status_and_reason(uninterrupted):
    _, report = uninterrupted
    rows = {r.student: r for r in report.rows}
    assert len(rows) == 20
    for case in GRADED:
        assert (rows[case.name].status, rows[case.name].score) == (Status.GRADED, case.expected_points()), case.name
    assert (rows["x_crash"].status, rows["x_crash"].score) == (Status.FAILED, 0)
    assert rows["x_crash"].reason == "the kernel died: exited with code 3"
    assert (rows["x_memory_hog"].status, rows["x_memory_hog"].score) == (Status.FAILED, 0)
    assert rows["x_memory_hog"].reason.startswith("ran out of memory")
    assert (rows["x_not_json"].status, rows["x_not_json"].score) == (Status.FAILED, 0)
    assert rows["x_not_json"].reason == f"unreadable notebook {course.NOTEBOOK}: the file is not a notebook (not valid JSON)"
    assert rows["x_bad_timestamp"].status is Status.ERROR and rows["x_bad_timestamp"].score is None
    assert rows["x_bad_timestamp"].reason == ("timestamp.txt is not a time nbgrader can parse ('sometime last week'): "
                                              "correct or delete it, then grade again")
    assert rows["x_no_notebook"].status is Status.SKIPPED
    assert report.exit_code == 1  # one submission could not be graded at all


def test_sigint_then_resume_gives_the_uninterrupted_grades(class_of_20, cluster, uninterrupted, tmp_path_factory):
    root = _copy(class_of_20, tmp_path_factory.mktemp("interrupted") / "course")
    ledger = root / ".nn-autograder" / course.ASSIGNMENT / "ledger.jsonl"
    grader = subprocess.Popen(
        [sys.executable, "-m", "autograder", "grade", "--course", str(root), "--scheduler", cluster,
         "--memory-limit", MEMORY_LIMIT], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # Ctrl-C at a terminal: a suite started in the background inherits SIGINT ignored, and
        # Python then installs no KeyboardInterrupt handler in the grader.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 600
    while not (ledger.exists() and len(ledger.read_text().splitlines()) >= 8):
        assert grader.poll() is None and time.monotonic() < deadline, grader.communicate()
        time.sleep(0.2)
    grader.send_signal(signal.SIGINT)
    out, err = grader.communicate(timeout=300)
    assert grader.returncode == INTERRUPTED, err
    assert "Interrupted" in out and "Traceback" not in err
    assert "[1/19] " in err  # plain progress lines when stderr is not a terminal
    done = [json.loads(line)["student"] for line in ledger.read_text().splitlines()]
    assert 8 <= len(done) < 19  # stopped halfway
    in_gradebook = {dict(row)["student_id"] for row in gradebook_tables(root / "gradebook.db")["submitted_assignment"]}
    assert set(done) - {"x_bad_timestamp"} <= in_gradebook  # every finished grade was kept

    report = grade_assignment(_options(root, cluster))
    statuses = {r.student: r.status for r in report.rows}
    assert {s for s, st in statuses.items() if st is Status.SKIPPED} == set(done) - {"x_bad_timestamp"} | {"x_no_notebook"}

    reference, _ = uninterrupted
    assert gradebook_tables(root / "gradebook.db") == gradebook_tables(reference / "gradebook.db")
    for folder in sorted((reference / "autograded").iterdir()):
        resumed = root / "autograded" / folder.name / course.ASSIGNMENT / course.NOTEBOOK
        assert normalized_notebook(resumed) == normalized_notebook(folder / course.ASSIGNMENT / course.NOTEBOOK)


def test_second_run_grades_only_what_changed(uninterrupted, cluster):
    root, _ = uninterrupted
    report = grade_assignment(_options(root, cluster))
    statuses = {r.student: r.status for r in report.rows}
    assert [s for s, st in statuses.items() if st is not Status.SKIPPED] == ["x_bad_timestamp"]  # nothing recorded for it

    changed = GRADED[0]
    submit(root, changed.name, CRASH)  # a resubmission
    report = grade_assignment(_options(root, cluster, students="[!x]*"))
    assert {r.student: r.status for r in report.rows if r.status is not Status.SKIPPED} == {changed.name: Status.FAILED}

    forced = grade_assignment(_options(root, cluster, students=GRADED[1].name, force=True))
    assert [(r.status, r.score) for r in forced.rows] == [(Status.GRADED, GRADED[1].expected_points())]


def test_a_hanging_submission_is_stopped_and_recorded_as_zero(released_course, cluster, tmp_path):
    root = fresh_course(released_course, tmp_path / "course")
    submit(root, "x_hang", HANG)
    before = time.monotonic()
    report = grade_assignment(_options(root, cluster, timeout=10))
    [row] = report.rows
    assert (row.status, row.score) == (Status.FAILED, 0)
    assert row.reason == "timed out: still running 10 s after its kernel started"
    assert time.monotonic() - before < 120
    assert report.exit_code == 0


def test_the_state_folder_keeps_only_ledger_graders_lock_and_logs(uninterrupted):
    root, _ = uninterrupted
    state = root / ".nn-autograder" / course.ASSIGNMENT
    assert {p.split(os.sep)[0] for p in tree(state)} <= {"ledger.jsonl", "graders.json", "lock", "logs"}
