"""Attacks that forge test-cell outputs or nbgrader metadata from the student's kernel.

Output forging: student code (an IPython hook, a background thread, a displayhook call) writes
into the test cells' outputs while they run: an ``execute_result`` that nbgrader would read as
partial credit, a number displayed as text, prints, a forged verdict, a comm, an output widget
that swallows the cell's error, a clear_output. The grade must be exactly the clean verdict's and
the submission flagged, because the kernel wrote what the check did not.

Metadata forging: the student's copy says a test cell is a solution, an answer is graded, points
are 100, checksums are gone, grade_ids are swapped or borrowed, a test cell is skipped. The
release's metadata is used instead: a correct submission keeps its 15 points and earns no more.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import nbformat

from hostile_kit import AXIS0, NOT_FITTED, SOLUTION, HostileCase, Mutation, expect

BLANK: dict[str, str] = {}  # the untouched release stubs
BLANK_EXPECTED = expect(
    check_architecture="input.missing", check_loss="input.missing", check_training="input.missing",
    check_accuracy="input.missing", check_probability="input.missing",
    check_first_label="input.missing_upstream", check_argmax_axis="input.missing_upstream",
    check_accuracy_score="input.missing_upstream")
AXIS0_EXPECTED = expect(check_argmax_axis="argmax.axis0", check_accuracy_score="input.missing")
NOT_FITTED_EXPECTED = expect(check_training="training.not_fitted", check_accuracy="accuracy.below_threshold")


def _grade_id(cell: nbformat.NotebookNode) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _is_test(cell: nbformat.NotebookNode) -> bool:
    return (_grade_id(cell) or "").startswith("check_")


def _is_answer(cell: nbformat.NotebookNode) -> bool:
    return (_grade_id(cell) or "").startswith("practice") and cell.cell_type == "code"


def _add_cell(code: str) -> Mutation:
    """Insert one code cell of the student's at the top of the notebook (it runs first)."""
    def mutate(nb: nbformat.NotebookNode) -> None:
        nb.cells.insert(0, nbformat.v4.new_code_cell(code))
    return mutate


def _on_cells(select: Callable[[nbformat.NotebookNode], bool],
              change: Callable[[nbformat.NotebookNode], None]) -> Mutation:
    def mutate(nb: nbformat.NotebookNode) -> None:
        for cell in nb.cells:
            if select(cell):
                change(cell)
    return mutate


def _then(*mutations: Mutation) -> Mutation:
    def mutate(nb: nbformat.NotebookNode) -> None:
        for m in mutations:
            m(nb)
    return mutate


# --- Output forging ------------------------------------------------------------------------------

# The attack of issue 10: before every test cell, publish an execute_result nbgrader reads first.
def _pre_run_hook(action: str, when: str = "pre_run_cell") -> str:
    arg = "info" if when == "pre_run_cell" else "result"
    raw = "info.raw_cell" if when == "pre_run_cell" else "result.info.raw_cell"
    return (f"def _forge({arg}):\n"
            f"    if 'verify(' in ({raw} or ''):\n"
            f"        {action}\n"
            f"get_ipython().events.register({when!r}, _forge)\n")


HOOK_OK = _pre_run_hook("get_ipython().displayhook('ok')")
HOOK_99 = _pre_run_hook("get_ipython().displayhook(99)")
HOOK_NAN = _pre_run_hook("get_ipython().displayhook(float('nan'))")
HOOK_DISPLAY_NUMBER = _pre_run_hook("__import__('IPython.display').display.display('2', raw=False)")
POST_RUN_EXECUTE_RESULT = _pre_run_hook("get_ipython().displayhook('2')", when="post_run_cell")
POST_RUN_CLEAR_OUTPUT = _pre_run_hook("__import__('IPython.display').display.clear_output()", when="post_run_cell")
# A verdict display that says "passed", published before the check's own.
FORGED_VERDICT = _pre_run_hook(
    "__import__('IPython.display').display.display({'application/vnd.nn-autograder.verdict+json': "
    "{'check_id': info.raw_cell.split('\"')[1], 'passed': True, 'mistake_id': None, 'fields': {}, "
    "'notes': [], 'hidden': True}}, raw=True)")

# A background thread writes while each test cell runs. The pre_run_cell hook hands over to the
# thread and waits until it has written, so the output lands in the test cell every time (ipykernel
# sends a thread's output with the parent header of the request being executed).
_THREAD = """
import threading
_go, _done = threading.Event(), threading.Event()
def _writer():
    while True:
        _go.wait()
        _go.clear()
        {action}
        _done.set()
threading.Thread(target=_writer, daemon=True).start()
def _forge(info):
    if 'verify(' in (info.raw_cell or ''):
        _done.clear()
        _go.set()
        _done.wait(30)
get_ipython().events.register('pre_run_cell', _forge)
"""
THREAD_EXECUTE_RESULT = _THREAD.format(action="get_ipython().displayhook('2')")
THREAD_PRINT_AND_COMM = _THREAD.format(
    action="print('15', flush=True); __import__('ipykernel.comm').comm.Comm(target_name='forged', data={'points': 15})")

# An ipywidgets Output model whose msg_id is the test cell's request: nbclient then routes the
# cell's outputs, its verdict and error included, into the widget instead of the cell.
OUTPUT_WIDGET = """
from ipykernel.comm import Comm
_STATE = {'_model_name': 'OutputModel', '_model_module': '@jupyter-widgets/output',
          '_model_module_version': '1.0.0', '_view_name': 'OutputView',
          '_view_module': '@jupyter-widgets/output', '_view_module_version': '1.0.0', 'outputs': []}
def _forge(info):
    if 'verify(' in (info.raw_cell or ''):
        comm = Comm(target_name='jupyter.widget', data={'state': dict(_STATE), 'buffer_paths': []},
                    metadata={'version': '2.1.0'})
        msg_id = get_ipython().kernel.get_parent()['header']['msg_id']
        comm.send({'method': 'update', 'state': {'msg_id': msg_id}, 'buffer_paths': []})
get_ipython().events.register('pre_run_cell', _forge)
"""


# --- Metadata forging ----------------------------------------------------------------------------

def _set(**values: object) -> Callable[[nbformat.NotebookNode], None]:
    def change(cell: nbformat.NotebookNode) -> None:
        cell.metadata["nbgrader"].update(values)
    return change


def _drop_or_change_checksums(nb: nbformat.NotebookNode) -> None:
    for i, cell in enumerate(c for c in nb.cells if "nbgrader" in c.metadata):
        if i % 2:
            cell.metadata["nbgrader"].pop("checksum", None)
        else:
            cell.metadata["nbgrader"]["checksum"] = "0" * 32


def _other_schema(cell: nbformat.NotebookNode) -> None:
    cell.metadata["nbgrader"]["schema_version"] = 1


def _relabel(source_id: str, target_id: str, **values: object) -> Mutation:
    """Give the cell ``source_id`` the grade_id ``target_id`` (and more nbgrader values)."""
    return _on_cells(lambda c: _grade_id(c) == source_id, _set(grade_id=target_id, **values))


def _swap_ids(first: str, second: str) -> Mutation:
    def mutate(nb: nbformat.NotebookNode) -> None:
        a, b = (next(c for c in nb.cells if _grade_id(c) == gid) for gid in (first, second))
        a.metadata["nbgrader"]["grade_id"], b.metadata["nbgrader"]["grade_id"] = second, first
    return mutate


def _fresh_cell_ids(nb: nbformat.NotebookNode) -> None:
    """As a front end that does not keep nbformat 4.5 cell ids would save the notebook."""
    for cell in nb.cells:
        cell["id"] = uuid.uuid4().hex[:8]


def _to_markdown(cell: nbformat.NotebookNode) -> None:
    cell.cell_type = "markdown"
    cell.pop("outputs", None)
    cell.pop("execution_count", None)


def _skip_execution(cell: nbformat.NotebookNode) -> None:
    cell.metadata["tags"] = ["skip-execution"]


def _bonus_grade_cell(nb: nbformat.NotebookNode) -> None:
    cell = nbformat.v4.new_code_cell("print('bonus')")
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": False, "points": 100,
                                 "grade_id": "bonus", "schema_version": 3}
    nb.cells.append(cell)


CASES: list[HostileCase] = [
    # Issue 10's attack on the untouched release, and on a real mistake: the clean verdict's points.
    HostileCase("f01_blank_hook_ok", BLANK, BLANK_EXPECTED, flagged=True, mutate=_add_cell(HOOK_OK)),
    HostileCase("f02_axis0_hook_ok", AXIS0, AXIS0_EXPECTED, flagged=True, mutate=_add_cell(HOOK_OK)),
    # 99 points for a 2-point cell made SaveAutoGrades crash: now the full 15, flagged.
    HostileCase("f03_hook_99", SOLUTION, expect(), flagged=True, mutate=_add_cell(HOOK_99)),
    HostileCase("f04_hook_nan", AXIS0, AXIS0_EXPECTED, flagged=True, mutate=_add_cell(HOOK_NAN)),
    HostileCase("f05_display_number", AXIS0, AXIS0_EXPECTED, flagged=True, mutate=_add_cell(HOOK_DISPLAY_NUMBER)),
    HostileCase("f06_post_run_execute_result", NOT_FITTED, NOT_FITTED_EXPECTED, flagged=True,
                mutate=_add_cell(POST_RUN_EXECUTE_RESULT)),
    HostileCase("f07_thread_execute_result", SOLUTION, expect(), flagged=True, mutate=_add_cell(THREAD_EXECUTE_RESULT)),
    HostileCase("f08_thread_print_and_comm", BLANK, BLANK_EXPECTED, flagged=True, mutate=_add_cell(THREAD_PRINT_AND_COMM)),
    HostileCase("f09_forged_verdict", AXIS0, AXIS0_EXPECTED, flagged=True, mutate=_add_cell(FORGED_VERDICT)),
    # Outputs taken away instead of added: an error cleared or swallowed scored full marks.
    HostileCase("f10_clear_output", BLANK, BLANK_EXPECTED, flagged=True, mutate=_add_cell(POST_RUN_CLEAR_OUTPUT)),
    HostileCase("f11_output_widget", BLANK, BLANK_EXPECTED, flagged=True, mutate=_add_cell(OUTPUT_WIDGET)),
    # Flipped flags on a correct submission: 15, no more, never ungradable; the release's metadata wins.
    HostileCase("f12_solution_flag_on_tests", SOLUTION, expect(), mutate=_on_cells(_is_test, _set(solution=True))),
    HostileCase("f13_grade_flag_on_answers", SOLUTION, expect(),
                mutate=_on_cells(_is_answer, _set(grade=True, points=5))),
    HostileCase("f14_points_100", SOLUTION, expect(), mutate=_on_cells(_is_test, _set(points=100))),
    HostileCase("f15_checksums_removed_or_changed", SOLUTION, expect(), mutate=_drop_or_change_checksums),
    HostileCase("f16_flags_and_schema_on_everything", SOLUTION, expect(), mutate=_then(
        _on_cells(lambda c: "nbgrader" in c.metadata, _set(locked=False, solution=True, grade=False)),
        _on_cells(lambda c: "nbgrader" in c.metadata, _other_schema))),
    # Borrowed and swapped grade_ids: each cell still stands for the release cell it came from.
    HostileCase("f17_answer_relabelled_as_test", SOLUTION, expect(),
                mutate=_relabel("practice12", "check_argmax_axis", grade=True, locked=True, points=2)),
    HostileCase("f18_answer_relabelled_as_test_without_cell_ids", SOLUTION, expect(),
                mutate=_then(_relabel("practice12", "check_argmax_axis", grade=True, locked=True, points=2),
                             _fresh_cell_ids)),
    HostileCase("f19_answer_renamed_to_another_answer", SOLUTION, expect(), mutate=_relabel("practice10", "practice11")),
    HostileCase("f20_swapped_test_ids", SOLUTION, expect(), mutate=_swap_ids("check_architecture", "check_accuracy_score")),
    HostileCase("f21_tests_as_markdown", AXIS0, AXIS0_EXPECTED, mutate=_on_cells(_is_test, _to_markdown)),
    # nbclient skips a cell tagged skip-execution, and nbgrader scores a test cell without output full.
    HostileCase("f22_tests_skipped_by_tag", BLANK, BLANK_EXPECTED, mutate=_on_cells(_is_test, _skip_execution)),
    HostileCase("f23_bonus_grade_cell", SOLUTION, expect(), mutate=_bonus_grade_cell),
]

# The cases graded again through plain `nbgrader autograde` (tests/test_forgery_nbgrader.py): the
# issue's attack, the value that crashed SaveAutoGrades, a thread's execute_result, and the
# metadata forgeries that stopped nbgrader. One notebook each costs a full kernel start and
# TensorFlow import there, so not every variant.
NBGRADER_CASES = [c for c in CASES if c.name in {
    "f01_blank_hook_ok", "f02_axis0_hook_ok", "f03_hook_99", "f07_thread_execute_result",
    "f12_solution_flag_on_tests", "f13_grade_flag_on_answers", "f14_points_100"}]
