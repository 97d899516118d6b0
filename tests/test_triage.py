"""Damaged submissions: salvage what can be read, restore the release's cells, never crash.

These run without a kernel: rejecting or repairing a notebook must be cheap, so that a batch
with hundreds of broken files stays fast. The property test feeds 500 generated damaged
notebooks through the triage.
"""

from __future__ import annotations

import io
import json
import random

import nbformat
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autograder import course
from autograder.spec import CHECK_POINTS, SOLUTION_CELLS
from autograder.triage import MAX_BYTES, Repair, Unreadable, read_submission, restore_cells, salvage

RELEASE = nbformat.read(course.REPO_ROOT / "release" / course.ASSIGNMENT / course.NOTEBOOK, as_version=4)
SOLVED = course.fill_answers(RELEASE, course.solution_answers())
MARKED = [c.metadata["nbgrader"]["grade_id"] for c in RELEASE.cells if "nbgrader" in c.metadata]


def _ids(nb: nbformat.NotebookNode) -> list[str | None]:
    return [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]


def _triage(raw: bytes) -> tuple[nbformat.NotebookNode, list[str]]:
    """What the grader does before any kernel: read the file (salvaging it if needed), restore cells."""
    nb, notes = read_submission(io.BytesIO(raw))
    restored, more = restore_cells(nb, RELEASE)
    return restored, notes + more


def _assert_gradable(nb: nbformat.NotebookNode) -> None:
    """Valid nbformat 4, unique cell ids, every marked release cell exactly once and in order."""
    nbformat.validate(nb)
    assert len({c["id"] for c in nb.cells}) == len(nb.cells)
    marked = [gid for gid in _ids(nb) if gid]
    assert marked == MARKED


@pytest.mark.parametrize("raw, reason", [
    (b"", "empty"),
    (b"   \n", "empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00garbage", "not valid JSON"),
    (b"[1, 2, 3]", "not a notebook object"),
    (b'{"nbformat": 4, "cells": "nope"}', "no readable cells"),
    (b'{"cells": [{"cell_type": "code"}]}', "no readable cells"),
])
def test_unreadable_files_are_rejected_with_a_reason(raw, reason):
    with pytest.raises(Unreadable, match=reason):
        salvage(raw)


def test_a_file_over_the_size_limit_is_rejected_without_parsing():
    with pytest.raises(Unreadable, match="larger than"):
        salvage(b"{" + b" " * MAX_BYTES + b"}")


def test_a_valid_notebook_is_read_exactly_as_nbformat_reads_it():
    raw = nbformat.writes(SOLVED).encode()
    nb, notes = read_submission(io.BytesIO(raw))
    assert notes == []
    assert nb == nbformat.reads(raw.decode(), as_version=4)


@pytest.mark.parametrize("damage, why", [
    (lambda d: d["cells"][0].pop("source"), "'source' is a required property"),
    (lambda d: d.update(nbformat=5), "Unsupported nbformat version 5"),
    (lambda d: d["cells"].insert(1, None), "not a valid notebook"),
])
def test_an_invalid_notebook_is_salvaged_and_the_repair_is_named(damage, why):
    document = json.loads(nbformat.writes(SOLVED))
    damage(document)
    nb, notes = read_submission(io.BytesIO(json.dumps(document).encode()))
    assert notes[0].kind == "invalid_file" and why in str(notes[0])
    assert str(notes[0]).endswith("graded the cells that could be read")
    nbformat.validate(nb)


def test_a_huge_file_is_rejected_after_reading_at_most_the_limit():
    class Endless(io.RawIOBase):
        asked = 0

        def readable(self) -> bool:
            return True

        def readinto(self, buffer):
            self.asked += len(buffer)
            buffer[:] = b"x" * len(buffer)
            return len(buffer)

    stream = Endless()
    with pytest.raises(Unreadable, match="larger than"):
        read_submission(io.BufferedReader(stream))
    assert stream.asked <= MAX_BYTES + io.DEFAULT_BUFFER_SIZE + 1


def test_an_intact_submission_is_unchanged_but_for_ids():
    restored, notes = _triage(nbformat.writes(SOLVED).encode())
    assert notes == []
    assert [c.source for c in restored.cells] == [c.source for c in SOLVED.cells]
    _assert_gradable(restored)


def test_deleted_test_cells_come_back_from_the_release():
    nb = nbformat.from_dict(SOLVED)
    nb.cells = [c for c in nb.cells if _ids_of(c) not in {"check_loss", "check_argmax_axis"}]
    restored, notes = restore_cells(nb, RELEASE)
    assert notes == [Repair("restored_cell", "check_loss"), Repair("restored_cell", "check_argmax_axis")]
    assert str(notes[0]) == "restored the deleted cell 'check_loss'"
    _assert_gradable(restored)


def test_a_split_answer_keeps_both_halves_in_place():
    nb = nbformat.from_dict(SOLVED)
    index = _ids(nb).index("practice10")
    first, second = nb.cells[index].source.split("model.compile")
    nb.cells[index].source = first
    nb.cells.insert(index + 1, nbformat.v4.new_code_cell("model.compile" + second))
    restored, notes = restore_cells(nb, RELEASE)
    assert notes == []
    at = _ids(restored).index("practice10")
    assert restored.cells[at + 1].source.startswith("model.compile")
    _assert_gradable(restored)


def test_a_duplicated_test_cell_runs_once_as_the_test_and_the_copy_becomes_plain_code():
    nb = nbformat.from_dict(SOLVED)
    index = _ids(nb).index("check_training")
    nb.cells.insert(index, nbformat.from_dict(nb.cells[index]))
    restored, notes = restore_cells(nb, RELEASE)
    assert notes == [Repair("duplicate_cell", "check_training")]
    assert str(notes[0]) == "kept a duplicate or unknown cell 'check_training' as plain code"
    _assert_gradable(restored)


def test_nbformat_3_worksheets_are_read():
    cells = [{"cell_type": "code", "input": c.source, "metadata": dict(c.metadata), "outputs": []}
             if c.cell_type == "code" else {"cell_type": c.cell_type, "source": c.source, "metadata": dict(c.metadata)}
             for c in SOLVED.cells]
    raw = json.dumps({"nbformat": 3, "nbformat_minor": 0, "worksheets": [{"cells": cells}], "metadata": {}})
    restored, _ = _triage(raw.encode())
    _assert_gradable(restored)
    assert restored.cells[_ids(restored).index("practice11")].source == SOLVED.cells[_ids(SOLVED).index("practice11")].source


def test_enormous_outputs_of_a_damaged_notebook_are_dropped():
    nb = nbformat.from_dict(SOLVED)
    nb.cells[_ids(nb).index("practice10")].outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="x" * 5_000_000)]
    document = json.loads(nbformat.writes(nb))
    document["nbformat"] = 5  # invalid: salvaged (a valid notebook's outputs go to nbgrader's ClearOutput)
    restored, _ = _triage(json.dumps(document).encode())
    assert len(nbformat.writes(restored)) < 100_000


def _ids_of(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


# --- property test: 500 damaged notebooks -------------------------------------------------

_DAMAGES = ("drop_cell", "duplicate_cell", "swap_cells", "drop_id", "duplicate_id", "drop_source",
            "bad_source", "bad_cell_type", "drop_metadata", "junk_metadata", "wrong_nbformat",
            "huge_output", "truncate", "garbage_bytes", "not_a_dict_cell", "split_cell")


def _damage(document: dict, damage: str, rng: random.Random) -> bytes:
    cells = document["cells"]
    readable = [k for k, c in enumerate(cells) if isinstance(c, dict)]  # earlier damage may leave junk
    i = rng.choice(readable) if readable else 0
    if not readable and damage not in ("wrong_nbformat", "not_a_dict_cell", "truncate", "garbage_bytes"):
        damage = "truncate"
    if damage == "drop_cell" and cells:
        del cells[i]
    elif damage == "duplicate_cell" and cells:
        cells.insert(i, json.loads(json.dumps(cells[i])))
    elif damage == "swap_cells" and len(cells) > 1:
        j = rng.randrange(len(cells))
        cells[i], cells[j] = cells[j], cells[i]
    elif damage == "drop_id" and cells:
        cells[i].pop("id", None)
    elif damage == "duplicate_id" and len(readable) > 1:
        cells[i]["id"] = cells[readable[0]].get("id", "x")
    elif damage == "drop_source" and cells:
        cells[i].pop("source", None)
    elif damage == "bad_source" and cells:
        cells[i]["source"] = rng.choice([None, 42, ["ok", 3], {"a": 1}])
    elif damage == "bad_cell_type" and cells:
        cells[i]["cell_type"] = rng.choice(["heading", None, 7, "code "])
    elif damage == "drop_metadata" and cells:
        cells[i].pop("metadata", None)
    elif damage == "junk_metadata" and cells:
        cells[i]["metadata"] = rng.choice([None, [], {"nbgrader": 5}, {"nbgrader": {"grade_id": 9}}])
    elif damage == "wrong_nbformat":
        document["nbformat"] = rng.choice([3, 5, 99, "4", None])
    elif damage == "huge_output" and cells:
        cells[i]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "y" * 200_000}]
    elif damage == "not_a_dict_cell":
        cells.insert(i, rng.choice([None, 5, "cell", []]))
    elif damage == "split_cell" and cells:
        source = "".join(cells[i].get("source", "")) if isinstance(cells[i].get("source"), (str, list)) else ""
        half = len(source) // 2
        copy = json.loads(json.dumps(cells[i]))
        cells[i]["source"], copy["source"] = source[:half], source[half:]
        cells.insert(i + 1, copy)
    raw = json.dumps(document).encode()
    if damage == "truncate":
        raw = raw[: rng.randrange(len(raw))]
    elif damage == "garbage_bytes":
        raw = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))
    return raw


@settings(max_examples=500, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(damages=st.lists(st.sampled_from(_DAMAGES), min_size=1, max_size=4), seed=st.integers(0, 2**32 - 1))
def test_any_damaged_notebook_is_rejected_with_a_reason_or_repaired_to_a_gradable_one(damages, seed):
    rng = random.Random(seed)
    document = json.loads(nbformat.writes(SOLVED))
    raw = json.dumps(document).encode()
    for damage in damages:
        try:
            document = json.loads(raw)
        except ValueError:
            break
        if not isinstance(document, dict) or not isinstance(document.get("cells"), list):
            break
        raw = _damage(document, damage, rng)
    try:
        restored, _ = _triage(raw)
    except Unreadable as exc:
        assert str(exc)  # a recorded reason, never an empty one
        return
    _assert_gradable(restored)
    # Every answer the student still has is kept word for word.
    for gid in SOLUTION_CELLS:
        assert _ids(restored).count(gid) == 1
    assert set(CHECK_POINTS) <= set(_ids(restored))
