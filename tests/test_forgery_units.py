"""Forged test-cell outputs and nbgrader metadata, on small notebooks without a kernel.

The kernel's outputs of a test cell are built here as ipykernel records what
:func:`autograder.cells.verify` publishes (it is called for real, with its display captured), so
a change to what ``verify`` writes shows up as an honest cell reported as forged. The clean
process is replaced by a fixed answer: these tests are about what the grader does with it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import nbformat
import pytest
from jupyter_client.jsonutil import json_clean
from nbformat.v4 import new_output
from nbgrader.preprocessors import CheckCellMetadata, DeduplicateIds, OverwriteCells, OverwriteKernelspec
from nbgrader.utils import determine_grade
from traitlets.config import Config

from autograder import cells, course
from autograder.cell_transcript import foreign_outputs, verify_calls
from autograder.preprocessors import (
    ARTIFACTS_KEY, CAPTURE_MARK, FOREIGN_OUTPUT_NOTE, OVERRIDDEN_NOTE, REVIEW_KEY, CleanProcessVerdict, RestoreCells,
    _outputs, review_reasons,
)
from autograder.spec import CHECK_POINTS
from autograder.triage import Repair, restore_cells
from autograder.verdict import VERDICT_MIME, Verdict
from hostile_forgery import CASES

SOURCE = nbformat.read(course.REPO_ROOT / "source" / course.ASSIGNMENT / course.NOTEBOOK, as_version=4)
RELEASE = nbformat.read(course.REPO_ROOT / "release" / course.ASSIGNMENT / course.NOTEBOOK, as_version=4)
TEST_SOURCE = {c.metadata["nbgrader"]["grade_id"]: c.source for c in SOURCE.cells
               if c.metadata.get("nbgrader", {}).get("grade")}
PASS = {check: Verdict(check, True) for check in CHECK_POINTS}
AXIS0 = {**PASS, "check_argmax_axis": Verdict("check_argmax_axis", False, "argmax.axis0", {"axis": 0})}


def _verify_outputs(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, verdict: Verdict,
                    hidden: bool) -> list[nbformat.NotebookNode]:
    """What ipykernel records for one real ``verify`` call whose check returns ``verdict``."""
    shown: list[dict] = []
    monkeypatch.setattr(cells, "run_check", lambda check_id, ctx: verdict)
    monkeypatch.setattr("IPython.display.display", lambda obj, raw=False: shown.append(obj))
    capsys.readouterr()
    try:
        cells.verify(verdict.check_id, {}, hidden=hidden)
        raised = None
    except cells.CheckFailed as exc:
        raised = exc
    out = [new_output("display_data", data=json_clean(d), metadata={}) for d in shown]  # as jupyter_client sends it
    printed = capsys.readouterr().out
    if printed:
        out.append(new_output("stream", name="stdout", text=printed))
    if raised is not None:  # IPython renders it through _render_traceback_
        out.append(new_output("error", ename=type(raised).__name__, evalue=str(raised),
                              traceback=raised._render_traceback_()))
    return out


@pytest.fixture
def kernel_outputs(monkeypatch, capsys):
    """check_id, its verdict -> the outputs an honest kernel writes for the whole test cell."""
    def build(check_id: str, verdict: Verdict) -> list[nbformat.NotebookNode]:
        out = []
        for hidden in verify_calls(TEST_SOURCE[check_id]):
            out += _verify_outputs(monkeypatch, capsys, verdict, hidden)
            if not verdict.passed:
                break
        return out
    return build


def _displayhook(value: object) -> nbformat.NotebookNode:
    return new_output("execute_result", data={"text/plain": repr(value)}, execution_count=3)


# --- What an honest test cell writes ------------------------------------------------------------

def test_every_test_cell_makes_a_visible_and_a_hidden_verify_call():
    assert {check: verify_calls(src) for check, src in TEST_SOURCE.items()} == {c: [False, True] for c in CHECK_POINTS}


@pytest.mark.parametrize("verdicts", [PASS, AXIS0], ids=["pass", "fail"])
def test_an_honest_kernel_wrote_nothing_foreign(kernel_outputs, verdicts):
    for check, verdict in verdicts.items():
        assert foreign_outputs(kernel_outputs(check, verdict), check, TEST_SOURCE[check]) == []


def test_a_verdict_about_nan_numbers_is_honest_although_it_arrives_as_text(kernel_outputs):
    check = "check_accuracy_score"
    diverged = Verdict(check, False, "accuracy_score.evaluate_mismatch", {"value": float("nan"), "expected": float("nan")})
    out = kernel_outputs(check, diverged)
    assert out[0].data[VERDICT_MIME]["fields"] == {"value": "nan", "expected": "nan"}
    assert foreign_outputs(out, check, TEST_SOURCE[check]) == []


def test_accepted_variants_of_honest_outputs(kernel_outputs, monkeypatch):
    check = "check_loss"
    split = kernel_outputs(check, PASS[check])
    text = split[1].text
    split[1:2] = [new_output("stream", name="stdout", text=text[:5]), new_output("stream", name="stdout", text=text[5:])]
    assert foreign_outputs(split, check, TEST_SOURCE[check]) == []
    failed = kernel_outputs("check_argmax_axis", AXIS0["check_argmax_axis"])
    failed[-1].traceback = ["ERROR: An error occurred while showtraceback was disabled"]  # nbgrader's record
    assert foreign_outputs(failed, "check_argmax_axis", TEST_SOURCE["check_argmax_axis"]) == []
    monkeypatch.setenv("AUTOGRADER_LANG", "en")
    english = kernel_outputs(check, PASS[check])
    monkeypatch.setenv("AUTOGRADER_LANG", "ja")
    assert foreign_outputs(english, check, TEST_SOURCE[check]) == []


def test_a_dead_kernels_cell_is_judged_on_what_it_wrote_before_dying(kernel_outputs):
    check = "check_training"
    died = kernel_outputs(check, PASS[check])[:2] + [new_output("error", ename="DeadKernelError", evalue="Kernel died",
                                                                traceback=["DeadKernelError"])]
    assert foreign_outputs(died, check, TEST_SOURCE[check], kernel_died=True) == []
    assert foreign_outputs([], check, TEST_SOURCE[check], kernel_died=True) == []
    assert foreign_outputs([_displayhook("ok")], check, TEST_SOURCE[check], kernel_died=True) == [
        "kernel wrote execute_result ['text/plain'] \"'ok'\""]


def _forged(kernel_outputs, check: str, verdict: Verdict, where: str, extra: nbformat.NotebookNode) -> list:
    out = kernel_outputs(check, verdict)
    return [extra, *out] if where == "before" else [*out, extra]


@pytest.mark.parametrize("extra, found", [
    (_displayhook("ok"), "kernel wrote execute_result ['text/plain'] \"'ok'\""),
    (_displayhook(99), "kernel wrote execute_result ['text/plain'] '99'"),
    (new_output("display_data", data={"text/plain": "2"}), "kernel wrote display_data ['text/plain'] '2'"),
    (new_output("stream", name="stderr", text="noise\n"), "kernel wrote stderr 'noise\\n'"),
    (new_output("error", ename="NameError", evalue="x"), "kernel wrote error NameError: 'x'"),
])
@pytest.mark.parametrize("where", ["before", "after"])
def test_anything_else_in_a_test_cell_is_reported(kernel_outputs, extra, found, where):
    assert foreign_outputs(_forged(kernel_outputs, "check_loss", PASS["check_loss"], where, extra),
                           "check_loss", TEST_SOURCE["check_loss"]) == [found]


def test_a_print_appended_to_the_checks_own_print_is_reported(kernel_outputs):
    out = kernel_outputs("check_loss", PASS["check_loss"])
    out.append(new_output("stream", name="stdout", text="15\n"))  # merges with the hidden check's line
    found = foreign_outputs(out, "check_loss", TEST_SOURCE["check_loss"])
    assert len(found) == 2 and found[0].startswith("kernel wrote stdout") and "15" in found[0]
    assert found[1].startswith("missing stdout")


def test_a_forged_verdict_and_missing_outputs_are_reported(kernel_outputs):
    check = "check_argmax_axis"
    honest = kernel_outputs(check, AXIS0[check])
    forged_pass = new_output("display_data", data={VERDICT_MIME: {**Verdict(check, True).to_json(), "hidden": True}})
    found = foreign_outputs([forged_pass, *honest], check, TEST_SOURCE[check])
    assert len(found) == 1 and found[0].startswith("kernel wrote display_data of a verdict")
    other_check = new_output("display_data", data={VERDICT_MIME: {**Verdict("check_loss", True).to_json(), "hidden": False}})
    assert foreign_outputs([other_check, *honest], check, TEST_SOURCE[check])[0].startswith(
        "kernel wrote display_data of a verdict")
    assert foreign_outputs(honest[:1], check, TEST_SOURCE[check])[0].startswith("missing error CheckFailed")
    assert foreign_outputs([], check, TEST_SOURCE[check]) == ["a verify call of the cell published no verdict"]
    unknown = new_output("display_data", data={VERDICT_MIME: {**Verdict(check, False, "no.such").to_json(), "hidden": False}})
    assert foreign_outputs([unknown, honest[1]], check, TEST_SOURCE[check])[0].startswith("kernel wrote display_data")


# --- The grader's outputs and points ------------------------------------------------------------

def _graded_notebook(outputs: dict[str, list]) -> nbformat.NotebookNode:
    nb = nbformat.from_dict(SOURCE)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in outputs:
            cell.outputs = outputs[gid]
    return nb


def _clean_verdict(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, nb: nbformat.NotebookNode,
                   clean: dict[str, Verdict] | None) -> tuple[nbformat.NotebookNode, dict]:
    def answer(self, directory, sources, errors):
        if clean is None:
            from autograder.preprocessors import CleanProcessError
            raise CleanProcessError("verification.notebook_stopped", "no artifacts")
        return {check: v.to_json() for check, v in clean.items()}
    monkeypatch.setattr(CleanProcessVerdict, "_run", answer)
    (tmp_path / "artifacts").mkdir()
    return CleanProcessVerdict().preprocess(nb, {ARTIFACTS_KEY: str(tmp_path / "artifacts")})


def _scores(nb: nbformat.NotebookNode) -> dict[str, float]:
    return {c.metadata.nbgrader.grade_id: determine_grade(c)[0] for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("grade")}


@pytest.mark.parametrize("forged", ["ok", "99", "nan", "-1", "inf", "1e308", "x" * 100_000, ["1", "2"]])
def test_forged_execute_results_never_reach_the_score(tmp_path, monkeypatch, kernel_outputs, forged):
    forgery = new_output("execute_result", data={"text/plain": forged}, execution_count=1)
    kernel = {check: [forgery, *kernel_outputs(check, AXIS0[check])] for check in CHECK_POINTS}
    nb, resources = _clean_verdict(tmp_path, monkeypatch, _graded_notebook(kernel), AXIS0)
    scores = _scores(nb)
    assert scores == {check: (0.0 if check == "check_argmax_axis" else float(p)) for check, p in CHECK_POINTS.items()}
    assert all(not math.isnan(s) for s in scores.values())
    review = resources[REVIEW_KEY]
    assert review["verified"] and review["tampered"] == [] and set(review["foreign_outputs"]) == set(CHECK_POINTS)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in CHECK_POINTS:
            expected = _outputs(Verdict(**{**AXIS0[gid].__dict__, "notes": (FOREIGN_OUTPUT_NOTE,)}))
            assert json.dumps(cell.outputs) == json.dumps(expected)
    assert any("execute_result" in r for r in review_reasons(review))


def test_honest_outputs_are_replaced_by_the_graders_and_nothing_is_recorded(tmp_path, monkeypatch, kernel_outputs):
    kernel = {check: kernel_outputs(check, AXIS0[check]) for check in CHECK_POINTS}
    nb, resources = _clean_verdict(tmp_path, monkeypatch, _graded_notebook(kernel), AXIS0)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in CHECK_POINTS:
            assert json.dumps(cell.outputs) == json.dumps(_outputs(AXIS0[gid]))
    assert review_reasons(resources[REVIEW_KEY]) == []
    assert sum(_scores(nb).values()) == 13


def test_a_kernel_that_faked_passes_gets_the_clean_failures_and_a_note(tmp_path, monkeypatch, kernel_outputs):
    kernel = {check: kernel_outputs(check, PASS[check]) for check in CHECK_POINTS}
    nb, resources = _clean_verdict(tmp_path, monkeypatch, _graded_notebook(kernel), AXIS0)
    assert _scores(nb)["check_argmax_axis"] == 0
    assert resources[REVIEW_KEY]["tampered"] == ["check_argmax_axis"]
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "check_argmax_axis")
    assert cell.outputs[0].data[VERDICT_MIME]["notes"] == [OVERRIDDEN_NOTE]


def test_without_a_clean_verdict_every_test_cell_fails_whatever_the_kernel_wrote(tmp_path, monkeypatch, kernel_outputs):
    kernel = {check: [_displayhook(2), *kernel_outputs(check, PASS[check])] for check in CHECK_POINTS}
    nb, resources = _clean_verdict(tmp_path, monkeypatch, _graded_notebook(kernel), None)
    assert set(_scores(nb).values()) == {0}
    assert not resources[REVIEW_KEY]["verified"]
    assert review_reasons(resources[REVIEW_KEY])[0].startswith("the clean process could not verify")


# --- nbgrader metadata from the release ----------------------------------------------------------

METADATA_CASES = [c for c in CASES if c.name >= "f12"]


def _nbgrader_cells(nb: nbformat.NotebookNode) -> list:
    return [(c.cell_type, c.metadata.get("nbgrader")) for c in nb.cells if "nbgrader" in c.metadata]


def _submitted(case) -> nbformat.NotebookNode:
    nb = course.fill_answers(RELEASE, case.answers)
    case.mutate(nb)
    return nb


@pytest.mark.parametrize("case", METADATA_CASES, ids=lambda c: c.name)
def test_release_cells_get_the_releases_type_and_metadata(case):
    restored, notes = restore_cells(_submitted(case), RELEASE)
    assert _nbgrader_cells(restored) == _nbgrader_cells(RELEASE)
    assert all(c.metadata == r.metadata for c, r in zip(
        [c for c in restored.cells if "nbgrader" in c.metadata], [c for c in RELEASE.cells if "nbgrader" in c.metadata]))
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in restored.cells if "nbgrader" in c.metadata}
    if case.name == "f18_answer_relabelled_as_test_without_cell_ids":
        # Without cell ids nothing says which cell was practice12: its code runs as a plain cell just
        # before the release's stub, and the test keeps its place.
        at = [c.source for c in restored.cells].index(case.answers["practice12"])
        assert restored.cells[at + 1].metadata["nbgrader"]["grade_id"] == "practice12"
        assert notes == [Repair("duplicate_cell", "check_argmax_axis"), Repair("restored_cell", "practice12")]
    else:
        assert all(answers[k] == v for k, v in case.answers.items())


def test_a_correct_notebook_is_unchanged_and_gets_no_note():
    restored, notes = restore_cells(course.fill_answers(RELEASE, course.solution_answers()), RELEASE)
    assert notes == [] and _nbgrader_cells(restored) == _nbgrader_cells(RELEASE)


def test_points_written_as_floats_are_not_a_change():
    nb = course.fill_answers(RELEASE, {})
    for cell in nb.cells:
        if "points" in cell.metadata.get("nbgrader", {}):
            cell.metadata.nbgrader.points = float(cell.metadata.nbgrader.points)
    assert restore_cells(nb, RELEASE)[1] == []


def test_notes_name_each_cell_whose_metadata_was_restored():
    case = next(c for c in CASES if c.name == "f20_swapped_test_ids")
    assert restore_cells(_submitted(case), RELEASE)[1] == [
        Repair("restored_metadata", "check_architecture"), Repair("restored_metadata", "check_accuracy_score")]
    assert str(Repair("restored_metadata", "check_loss")) == "took the type and nbgrader metadata of cell 'check_loss' from the release"


def test_metadata_forgeries_pass_nbgraders_sanitize_steps_and_score_exactly_15(released_course, tmp_path):
    """nbgrader's own OverwriteCells and CheckCellMetadata, on a real gradebook, after RestoreCells."""
    config = Config()
    config.CourseDirectory.root = str(released_course)
    resources = {"nbgrader": {"notebook": course.ASSIGNMENT, "assignment": course.ASSIGNMENT, "student": "s",
                              "db_url": f"sqlite:///{released_course / 'gradebook.db'}"}}
    steps = [RestoreCells(config=config), DeduplicateIds(), OverwriteKernelspec(), OverwriteCells(), CheckCellMetadata()]
    for case in METADATA_CASES:
        nb = _submitted(case)
        for step in steps:
            nb, _ = step.preprocess(nb, {**resources})
        grades = {}
        for cell in nb.cells:
            if cell.metadata.get("nbgrader", {}).get("grade"):
                cell.outputs = _outputs(Verdict(cell.metadata.nbgrader.grade_id, True))
                grades[cell.metadata.nbgrader.grade_id] = determine_grade(cell)
        assert grades == {c: (float(p), float(p)) for c, p in CHECK_POINTS.items()}, case.name


def test_a_student_cell_marked_as_the_capture_cell_is_neither_removed_nor_hidden(tmp_path, monkeypatch):
    nb = nbformat.from_dict(SOURCE)
    own = nbformat.v4.new_code_cell("model.fit(X_test, y_test)")
    own.metadata[CAPTURE_MARK] = True
    capture = nbformat.v4.new_code_cell("save_artifacts()")
    capture.metadata[CAPTURE_MARK] = "a1b2"
    nb.cells += [own, capture]
    seen = []

    def answer(self, directory, sources, errors):
        seen.extend(sources)
        return {check: v.to_json() for check, v in PASS.items()}
    monkeypatch.setattr(CleanProcessVerdict, "_run", answer)
    (tmp_path / "artifacts").mkdir()
    nb, _ = CleanProcessVerdict().preprocess(nb, {ARTIFACTS_KEY: str(tmp_path / "artifacts"), CAPTURE_MARK: "a1b2"})
    assert own.source in seen and capture.source not in seen
    assert nb.cells[-1].source == own.source
