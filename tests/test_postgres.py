"""The gradebook in PostgreSQL: real nbgrader grading in parallel processes, every row checked.

SQLite stays the default gradebook; a course that grades with several processes at once can
point nbgrader's ``CourseDirectory.db_url`` at PostgreSQL instead. These tests run a private
server (``pg_server.py``) and read the rows back with plain SQL, not through nbgrader, so a
score that nbgrader reports but never stored, or stored for the wrong student, is caught.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from autograder import course
from autograder.sample_class import sample_class
from autograder.spec import ASSIGNMENT, CHECK_POINTS
from corpus import CASES, SOURCE_NOTEBOOK
from pg_server import PostgresServer, pg_database, pg_server  # noqa: F401 - pytest fixtures

NOTEBOOK_ID = Path(course.NOTEBOOK).stem  # nbgrader names notebooks without the extension
COURSE_ID = "nn-basics"

# Every grade row of the gradebook with its student, cell and scores.
GRADE_ROWS = """
    SELECT st.id, bc.name, g.auto_score, g.manual_score, gc.max_score
    FROM grade g
    JOIN submitted_notebook sn ON sn.id = g.notebook_id
    JOIN submitted_assignment sa ON sa.id = sn.assignment_id
    JOIN student st ON st.id = sa.student_id
    JOIN assignment a ON a.id = sa.assignment_id
    JOIN notebook n ON n.id = sn.notebook_id
    JOIN base_cell bc ON bc.id = g.cell_id
    JOIN grade_cells gc ON gc.id = g.cell_id
    WHERE a.name = %s AND n.name = %s
"""

# From the bundled sample class (whose outcomes the corpus records): a submission with full
# marks and the one that keeps the fewest points without dropping to zero, so rows stored for
# the wrong student or cell cannot go unnoticed.
_SAMPLE = [c for c in CASES if c.name != SOURCE_NOTEBOOK and c.answers in sample_class().values()]
GRADED_CASES = [
    next(c for c in _SAMPLE if c.expected_points() == sum(CHECK_POINTS.values())),
    min((c for c in _SAMPLE if c.expected_points() > 0), key=lambda c: c.expected_points()),
]
WRITERS = 8


def _database(url: str) -> str:
    return url.rsplit("/", 1)[1]


def _grade_rows(server: PostgresServer, url: str) -> list[tuple]:
    return server.query(_database(url), GRADE_ROWS, (ASSIGNMENT, NOTEBOOK_ID))


def test_private_server_runs_unprivileged_on_loopback(pg_server):
    settings = pg_server.query("postgres", "SELECT current_setting('listen_addresses'), "
                               "current_setting('data_directory'), current_setting('unix_socket_directories')")
    assert settings == [("127.0.0.1", str(pg_server.data_dir), str(pg_server.base))]
    assert os.stat(pg_server.data_dir).st_uid != 0


def _course_with_submissions(root: Path, url: str) -> Path:
    """A course whose assignment is generated into the gradebook at ``url``, with GRADED_CASES submitted.

    Generating first also creates the gradebook's tables, which nbgrader cannot do safely from
    several processes at once (docs/postgres.md).
    """
    course.create_course(root)
    course.run_nbgrader(root, "generate_assignment", ASSIGNMENT, "--force", f"--db={url}")
    release = course.release_notebook(root)
    for case in GRADED_CASES:
        course.submit(root, case.name, course.fill_answers(release, case.answers))
    return root


def _assert_graded_rows(server: PostgresServer, url: str, root: Path) -> None:
    """PostgreSQL holds exactly one row per graded case and check, with the corpus's score."""
    assert not (root / "gradebook.db").exists(), "nbgrader wrote to SQLite instead of PostgreSQL"
    expected = {(case.name, check): (float(points) if case.expected[check] is None else 0.0, None, float(points))
                for case in GRADED_CASES for check, points in CHECK_POINTS.items()}
    rows = _grade_rows(server, url)
    assert len(rows) == len(expected)
    assert {(student, cell): tuple(scores) for student, cell, *scores in rows} == expected


def test_parallel_nbgrader_autograde_stores_every_grade_in_postgres(pg_server, pg_database, tmp_path):
    root = _course_with_submissions(tmp_path / "course", pg_database)

    def autograde(student: str) -> tuple[float, float]:
        start = time.monotonic()
        course.run_nbgrader(root, "autograde", ASSIGNMENT, "--force", "--student", student, f"--db={pg_database}")
        return start, time.monotonic()

    with ThreadPoolExecutor(len(GRADED_CASES)) as pool:
        spans = list(pool.map(autograde, [c.name for c in GRADED_CASES]))
    assert max(s for s, _ in spans) < min(e for _, e in spans), "the autograde processes did not overlap"

    _assert_graded_rows(pg_server, pg_database, root)
    for case in GRADED_CASES:
        results = course.autograded_results(root, case.name, db_url=pg_database)
        assert sum(r.score for r in results.values()) == case.expected_points()


def test_bulk_grader_with_two_workers_stores_every_grade_in_postgres(pg_server, pg_database, tmp_path):
    root = _course_with_submissions(tmp_path / "course", pg_database)
    proc = subprocess.run([sys.executable, "-m", "autograder", "grade", ASSIGNMENT, "--course", str(root),
                           "--workers", "2", "--db-url", pg_database],
                          env=course.grading_env(), capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    _assert_graded_rows(pg_server, pg_database, root)


def _writer_scores(writer: int) -> dict[str, float]:
    """Distinct half-point scores per writer and cell, so any misplaced value shows."""
    return {cell: ((writer + i) % (2 * points + 1)) / 2
            for i, (cell, points) in enumerate(CHECK_POINTS.items())}


def _write_grades(url: str, writer: int, barrier) -> None:
    """One writer process: its own student, submission and scores, one commit per grade."""
    from nbgrader.api import Gradebook

    student = f"w{writer:02d}"
    with Gradebook(url, COURSE_ID) as gb:
        barrier.wait(timeout=300)  # all writers start their transactions together
        gb.add_student(student)
        gb.add_submission(ASSIGNMENT, student)
        for cell, score in _writer_scores(writer).items():
            gb.find_grade(cell, NOTEBOOK_ID, ASSIGNMENT, student).auto_score = score
            gb.db.commit()


def test_concurrent_gradebook_writers_lose_no_rows(pg_server, pg_database):
    from nbgrader.api import Gradebook

    with Gradebook(pg_database, COURSE_ID) as gb:  # the schema and the assignment exist once
        gb.add_assignment(ASSIGNMENT)
        gb.add_notebook(NOTEBOOK_ID, ASSIGNMENT)
        for cell, points in CHECK_POINTS.items():
            gb.add_grade_cell(cell, NOTEBOOK_ID, ASSIGNMENT, max_score=points, cell_type="code")

    # fork: the writers need only nbgrader.api, already imported here, while eight fresh
    # interpreters importing it cost more CPU than the test itself on two cores. The parent
    # holds no open connection at this point (the Gradebook above is closed).
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(WRITERS)
    writers = [ctx.Process(target=_write_grades, args=(pg_database, w, barrier)) for w in range(WRITERS)]
    for process in writers:
        process.start()
    for process in writers:
        process.join(timeout=600)
    assert [p.exitcode for p in writers] == [0] * WRITERS

    expected = {(f"w{w:02d}", cell): (score, None, float(CHECK_POINTS[cell]))
                for w in range(WRITERS) for cell, score in _writer_scores(w).items()}
    rows = _grade_rows(pg_server, pg_database)
    assert len(rows) == len(expected)
    assert {(student, cell): tuple(scores) for student, cell, *scores in rows} == expected
    assert pg_server.query(_database(pg_database), "SELECT count(*) FROM submitted_assignment") == [(WRITERS,)]
