"""Helpers for the bulk-grader tests: fresh course copies, gradebook and notebook comparison.

The comparisons are written independently of the grader: the gradebook is read with plain SQL
(every table, every column, ids replaced by the natural keys they stand for), and notebooks
are compared as JSON with only what differs between any two runs of nbgrader normalised.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import nbformat
from nbgrader.api import Gradebook

from autograder import course

# Progress-bar and timing figures ("2s 4ms/step", "0:03"), object addresses, kernel pids.
_TIMING = re.compile(r"\d+(?:\.\d+)?(?:ms|us|µs|s)(?:/step)?|\b\d+:\d\d\b")
_ADDRESS = re.compile(r"0x[0-9a-f]{6,}")
_KERNEL_PID = re.compile(r"ipykernel_\d+")
DEAD_KERNEL = "DeadKernelError"  # the error SurvivingExecute gives the cell whose code killed the kernel


def fresh_course(released: Path, dest: Path) -> Path:
    """A copy of a released course with no students: config, source, release, gradebook."""
    dest.mkdir(parents=True)
    for name in ("nbgrader_config.py", "source", "release", "gradebook.db"):
        src = released / name
        (shutil.copytree if src.is_dir() else shutil.copy2)(src, dest / name)
    with Gradebook(f"sqlite:///{dest / 'gradebook.db'}") as gb:
        for student in list(gb.students):
            gb.remove_student(student.id)
    return dest


def submit(root: Path, student: str, answers: Mapping[str, str], timestamp: str | None = None) -> None:
    """Submit the release filled with ``answers`` (and nbgrader's timestamp.txt, if given)."""
    path = course.submit(root, student, course.fill_answers(course.release_notebook(root), answers))
    if timestamp is not None:
        (path.parent / "timestamp.txt").write_text(timestamp)


def gradebook_tables(db: Path) -> dict[str, list[tuple]]:
    """Every row of every table, with each id replaced by the natural key of its row."""
    con = sqlite3.connect(db)
    try:
        q = lambda sql: con.execute(sql).fetchall()  # noqa: E731
        key: dict[Any, str] = {}
        for i, name in q("SELECT id, name FROM assignment"):
            key[i] = f"assignment:{name}"
        for i, name, a in q("SELECT id, name, assignment_id FROM notebook"):
            key[i] = f"notebook:{key[a]}/{name}"
        for table in ("base_cell", "source_cell"):
            for i, name, nb in q(f"SELECT id, name, notebook_id FROM {table}"):
                key[i] = f"{table}:{key[nb]}/{name}"
        for i, a, s in q("SELECT id, assignment_id, student_id FROM submitted_assignment"):
            key[i] = f"submission:{key[a]}/{s}"
        for i, sub, nb in q("SELECT id, assignment_id, notebook_id FROM submitted_notebook"):
            key[i] = f"submitted:{key[sub]}/{key[nb]}"
        for table in ("grade", "comment"):
            for i, nb, cell in q(f"SELECT id, notebook_id, cell_id FROM {table}"):
                key[i] = f"{table}:{key[nb]}/{key[cell]}"
        tables = {}
        for (table,) in q("SELECT name FROM sqlite_master WHERE type = 'table'"):
            columns = [c[1] for c in q(f"PRAGMA table_info({table})")]
            tables[table] = sorted(tuple((c, key.get(v, v)) for c, v in zip(columns, row))
                                   for row in q(f"SELECT * FROM {table}"))
        return tables
    finally:
        con.close()


def _render(text: str) -> str:
    """What a terminal shows for ``text``: carriage returns and backspaces applied."""
    lines, line, pos = [], [], 0
    for ch in text:
        if ch == "\n":
            lines.append("".join(line).rstrip())
            line, pos = [], 0
        elif ch == "\r":
            pos = 0
        elif ch == "\b":
            pos = max(0, pos - 1)
        else:
            line[pos:pos + 1] = [ch]
            pos += 1
    lines.append("".join(line).rstrip())
    return "\n".join(lines)


def _steady(text: str) -> str:
    return _KERNEL_PID.sub("ipykernel_PID", _ADDRESS.sub("0xADDR", text))


def normalized_notebook(path: Path) -> dict:
    """A notebook without what differs between any two nbgrader runs of the same submission.

    Dropped: cell execution timestamps. Normalised: how stream output was split into messages
    (it follows timing), progress-bar timings, object addresses and the kernel's pid in
    tracebacks. Everything else, verdict data and error text included, must be equal.

    In the cell whose code killed the kernel (``os._exit``), only the death itself is kept: what
    the kernel's IOPub thread managed to send before the process vanished is a race. nbclient
    takes the cell's ``execution_count`` from the ``execute_input`` message, which a dying
    kernel sends or not depending on thread scheduling (on a loaded machine the same
    submission came back once with the count and once without), and likewise for any output
    printed just before the exit. The grade does not depend on either.
    """
    nb = nbformat.read(path, as_version=4)
    cells = []
    for cell in nb.cells:
        meta = {k: v for k, v in cell.metadata.items() if k != "execution"}
        streams: dict[str, str] = {}
        others = []
        outputs = cell.get("outputs", [])
        if any(o.get("output_type") == "error" and o.get("ename") == DEAD_KERNEL for o in outputs):
            outputs = [o for o in outputs if o.get("ename") == DEAD_KERNEL]
            cell = nbformat.from_dict({**cell, "execution_count": None})
        for out in outputs:
            if out.output_type == "stream":
                streams[out.name] = streams.get(out.name, "") + out.text
            else:
                others.append(json.loads(_steady(json.dumps(out, sort_keys=True))))
        cells.append({"type": cell.cell_type, "source": cell.source, "metadata": meta,
                      "execution_count": cell.get("execution_count"), "outputs": others,
                      "streams": {k: _TIMING.sub("T", _steady(_render(v))) for k, v in streams.items()}})
    return {"metadata": dict(nb.metadata), "cells": cells}


def tree(root: Path) -> set[str]:
    """Every path below ``root``, to check that a refused command wrote nothing."""
    return {str(p.relative_to(root)) for p in root.rglob("*")}
