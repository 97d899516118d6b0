"""Moving gradebook rows between the course gradebook and a worker's private one.

Workers never write to the course gradebook. SQLite allows one writer at a time and its file
locks are not reliable on the network file systems a cluster shares; and a worker on another
machine should not need database credentials at all. So each submission is graded by nbgrader
against a *private* SQLite gradebook, and only the coordinator writes the course gradebook:

1. :func:`export_assignment` copies the assignment's definition (notebooks, cells, sources,
   courses) into a template file once per batch;
2. per submission, the coordinator reads the student's current rows (:func:`student_rows`) and
   the worker seeds its private copy of the template with them (:func:`seed`), so nbgrader
   sees the same prior state (earlier manual grades, extensions) it would see in the course
   gradebook;
3. nbgrader's own autograde pipeline runs against the private gradebook, then the worker reads
   the student's rows again;
4. the coordinator applies the difference (:func:`apply_changes`): every column the pipeline
   changed, and nothing else, so a TA editing manual grades meanwhile is not overwritten.

Rows are matched by their natural keys (student id, assignment, notebook and cell names); the
columns are discovered from nbgrader's own models, so a column nbgrader adds is carried too.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from nbgrader import api
from nbgrader.api import Gradebook, MissingEntry

Columns = dict[str, Any]
# {"student": Columns, "submission": None | {"columns": Columns, "notebooks": {name: {"columns":
#  Columns, "grades": {cell: Columns}, "comments": {cell: Columns}}}}}
StudentRows = dict[str, Any]


@dataclass(frozen=True)
class RowChanges:
    """What grading one submission did to the gradebook, as the coordinator applies it."""

    before: StudentRows | None  # the student's rows when the submission was dispatched
    after: StudentRows  # the same rows after nbgrader's pipeline ran
    new_courses: tuple[str, ...]  # course rows nbgrader created (it opens some gradebooks without a course id)


def _data_columns(model: type) -> list[str]:
    """The model's own stored columns: no keys, no computed properties, no type discriminator."""
    mapper = sa.inspect(model)
    discriminator = mapper.polymorphic_on
    return [c.key for c in mapper.columns
            if isinstance(c, sa.Column) and not c.primary_key and not c.foreign_keys
            and c is not discriminator]


def _columns(row: object) -> Columns:
    return {name: getattr(row, name) for name in _data_columns(type(row))}


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def _without_name(row: object) -> Columns:
    return {k: v for k, v in _columns(row).items() if k != "name"}


def _create_schema(gb: Gradebook, template: Path) -> None:
    """nbgrader's tables in a new SQLite file, stamped with ``gb``'s schema version.

    nbgrader's Gradebook does this itself for a new database, but asks for the version by
    running ``alembic`` in a subprocess, which costs seconds per batch; the course gradebook
    already carries the version.
    """
    version = gb.db.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()
    engine = sa.create_engine(sqlite_url(template))
    try:
        api.Base.metadata.create_all(bind=engine)
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
            conn.execute(sa.text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": version})
    finally:
        engine.dispose()


def export_assignment(gb: Gradebook, assignment: str, template: Path) -> None:
    """Write ``assignment``'s definition and the course ids from ``gb`` into a new SQLite file."""
    source = gb.find_assignment(assignment)
    _create_schema(gb, template)
    with Gradebook(sqlite_url(template), source.course_id) as out:
        for course in courses(gb):
            out.check_course(course)
        out.add_assignment(assignment, course_id=source.course_id, **_without_name(source))
        for notebook in source.notebooks:
            out.add_notebook(notebook.name, assignment, **_without_name(notebook))
            for cells, add in ((notebook.grade_cells, out.add_grade_cell),
                               (notebook.solution_cells, out.add_solution_cell),
                               (notebook.task_cells, out.add_task_cell),
                               (notebook.source_cells, out.add_source_cell)):
                for cell in cells:
                    add(cell.name, notebook.name, assignment, **_without_name(cell))
        out.db.commit()


def student_rows(gb: Gradebook, assignment: str, student: str) -> StudentRows | None:
    """The student's row and their submission of ``assignment`` (None if not in ``gb``)."""
    try:
        row = gb.find_student(student)
    except MissingEntry:
        return None
    rows: StudentRows = {"student": _columns(row), "submission": None}
    try:
        submission = gb.find_submission(assignment, student)
    except MissingEntry:
        return rows
    rows["submission"] = {
        "columns": _columns(submission),
        "notebooks": {nb.name: {
            "columns": _columns(nb),
            "grades": {g.name: _columns(g) for g in nb.grades},
            "comments": {c.name: _columns(c) for c in nb.comments},
        } for nb in submission.notebooks},
    }
    return rows


def courses(gb: Gradebook) -> list[str]:
    return sorted(c.id for c in gb.db.query(api.Course))


def seed(gb: Gradebook, assignment: str, student: str, rows: StudentRows | None) -> None:
    """Put the student's current rows into a private gradebook made from the template."""
    if rows is None:
        return
    gb.add_student(student, **rows["student"])
    if rows["submission"] is not None:
        gb.add_submission(assignment, student)
        _write(gb, assignment, student, None, rows)
    gb.db.commit()


@contextmanager
def _transaction(gb: Gradebook) -> Iterator[None]:
    """Commit what the block changed in ``gb``, or roll it back if the block raises."""
    try:
        yield
        gb.db.commit()
    except BaseException:
        gb.db.rollback()
        raise


def apply_changes(gb: Gradebook, assignment: str, student: str, changes: RowChanges) -> None:
    """Apply to ``gb`` what grading changed.

    Rows missing in ``gb`` are created as nbgrader creates them (``add_student``,
    ``add_submission``, which mirrors the assignment's cells; both commit on their own, and
    applying the same changes again finds them); then each column whose value the pipeline
    changed is set, in one transaction.
    """
    before, after = changes.before, changes.after
    with _transaction(gb):
        for course in changes.new_courses:
            gb.check_course(course)
        try:
            gb.find_student(student)
        except MissingEntry:
            gb.add_student(student)
        if after["submission"] is not None:
            try:
                gb.find_submission(assignment, student)
            except MissingEntry:
                gb.add_submission(assignment, student)
        _write(gb, assignment, student, before, after)


def _write(gb: Gradebook, assignment: str, student: str, before: StudentRows | None,
           after: StudentRows) -> None:
    """Set every column of ``after`` that differs from ``before`` (all of them if ``before`` lacks the row)."""
    _set(gb.find_student(student), (before or {}).get("student"), after["student"])
    sub_after = after["submission"]
    if sub_after is None:
        return
    sub_before = (before or {}).get("submission") or {"columns": None, "notebooks": {}}
    submission = gb.find_submission(assignment, student)
    _set(submission, sub_before["columns"], sub_after["columns"])
    for nb in submission.notebooks:
        nb_after = sub_after["notebooks"].get(nb.name)
        if nb_after is None:
            continue
        nb_before = sub_before["notebooks"].get(nb.name, {})
        _set(nb, nb_before.get("columns"), nb_after["columns"])
        for kind, children in (("grades", nb.grades), ("comments", nb.comments)):
            for child in children:
                if child.name in nb_after[kind]:
                    _set(child, nb_before.get(kind, {}).get(child.name), nb_after[kind][child.name])


def _set(row: object, before: Columns | None, after: Columns) -> None:
    for name, value in after.items():
        if before is None or before.get(name) != value:
            setattr(row, name, value)


def zero_grades(gb: Gradebook, assignment: str, student: str, timestamp: Any) -> None:
    """Record a zero for a submission whose code could not be run to the end; flag it.

    As nbgrader does for a missing notebook: every grade's ``auto_score`` is 0 and needs no
    manual grading. The flag makes it stand out in the formgrader.
    """
    with _transaction(gb):
        gb.update_or_create_student(student)
        if timestamp is not None:
            gb.update_or_create_submission(assignment, student, timestamp=timestamp)
        else:
            gb.update_or_create_submission(assignment, student)
        for nb in gb.find_submission(assignment, student).notebooks:
            nb.flagged = True
            for grade in nb.grades:
                grade.auto_score = 0
                grade.needs_manual_grade = False
