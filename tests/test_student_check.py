"""``python -m autograder check``: the student's run before submitting.

The saved-notebook diagnostics are static (no kernel): they are tested on notebooks whose
``execution_count`` values are set here as a student's session would leave them. The full run
(a fresh kernel, TensorFlow, training) is tested on three notebooks only.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder import course, messages, saved_notebook
from autograder.sample_class import sample_class
from autograder.spec import ASSIGNMENT, CHECK_POINTS, NOTEBOOK

RELEASE = course.REPO_ROOT / "release" / ASSIGNMENT / NOTEBOOK


def _position(grade_id: str | None, after: str | None = None) -> int:
    """Where a cell sits in the release: by grade_id, or the first unmarked cell after ``after``."""
    cells = nbformat.read(RELEASE, as_version=4).cells
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in cells]
    if grade_id is not None:
        return ids.index(grade_id)
    start = ids.index(after)
    return next(i for i in range(start + 1, len(cells)) if ids[i] is None and cells[i].cell_type == "code")


# Cell positions in the release (the optional scaling cell has no grade_id).
SCALING, LABELS, PRACTICE10 = _position(None, after="scale_md"), _position("labels"), _position("practice10")
CHECK_ARCH, PRACTICE11 = _position("check_architecture"), _position("practice11")
LOAD_DATA = _position("load_data")


def _count(position: int) -> int:
    """The execution count ``_ran`` gives the code cell at ``position`` (code cells numbered from 1)."""
    cells = nbformat.read(RELEASE, as_version=4).cells
    return sum(c.cell_type == "code" for c in cells[:position + 1])


def _filled(student: str = "s01_correct") -> nbformat.NotebookNode:
    return course.fill_answers(nbformat.read(RELEASE, as_version=4), sample_class()[student])


def _ran(nb: nbformat.NotebookNode, counts: dict[int, int | None] | None = None) -> nbformat.NotebookNode:
    """``nb`` as saved after running every code cell once, top to bottom, then ``counts`` overrides."""
    number = 0
    for cell in nb.cells:
        if cell.cell_type == "code":
            number += 1
            cell.execution_count = number
    for position, count in (counts or {}).items():
        assert nb.cells[position].cell_type == "code"
        nb.cells[position].execution_count = count
    return nb


def _findings(nb: nbformat.NotebookNode, lang: str = "ja") -> list[str]:
    return [f.text(lang) for f in saved_notebook.findings(nb, lang)]


def _text(key: str, lang: str = "ja", **fields: object) -> str:
    return messages.text(f"student_check.{key}", lang, **fields)


def _check(path: Path, *args: str, lang: str = "ja") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AUTOGRADER_LANG": lang}
    return subprocess.run([sys.executable, "-m", "autograder", "check", str(path), *args],
                          env=env, capture_output=True, text=True, timeout=900)


# --- The saved notebook, read statically ---------------------------------------------------

def test_notebook_run_once_top_to_bottom_has_no_findings():
    assert _findings(_ran(_filled())) == []


def test_cells_run_out_of_order_are_named_with_their_counts():
    # The student fixed practice 10 at the end (In [30]) without re-running the checks below it.
    nb = _ran(_filled(), {PRACTICE10: 30})
    arch = messages.title("check_architecture", "ja")
    loss = messages.title("check_loss", "ja")
    training = messages.title("check_training", "ja")
    assert _findings(nb) == [
        _text("out_of_order", cell=arch, count=_count(CHECK_ARCH), above="練習10", above_count=30),
        _text("out_of_order", cell=loss, count=_count(CHECK_ARCH) + 1, above="練習10", above_count=30),
        _text("out_of_order", cell=training, count=_count(CHECK_ARCH) + 2, above="練習10", above_count=30),
        _text("more_out_of_order", count=7),
    ]
    assert _findings(nb)[0] == (f"モデルの構造 (練習10) (In [{_count(CHECK_ARCH)}]) は、上にある練習10 (In [30]) より前に実行されています。"
                                "採点では上から順に実行するので、結果が変わることがあります。")


def test_a_cell_never_run_is_named_by_its_first_line():
    nb = _ran(_filled(), {SCALING: None})
    assert _findings(nb) == [_text("never_run", cell=f"セル {SCALING + 1} (「X_train = X_train / 255.0」)")]
    assert _findings(nb, "en") == [f'cell {SCALING + 1} ("X_train = X_train / 255.0") was never run. Grading runs it too, '
                                   "so results may differ."]


def test_skipped_label_cell_says_the_labels_are_still_strings():
    nb = _ran(_filled(), {LABELS: None})
    assert _findings(nb) == [_text("labels_not_run", cell=_text("labels_cell"))]


def test_practice_run_before_the_label_cell_names_the_cause():
    nb = _ran(_filled(), {LABELS: 40})
    assert _findings(nb)[0] == _text("ran_before_labels", cell="練習10", count=_count(PRACTICE10),
                                     above=_text("labels_cell"), above_count=40)


def test_data_reloaded_after_the_label_cell_turns_labels_back_into_strings():
    nb = _ran(_filled(), {LOAD_DATA: 41})  # the data cell run again after everything
    assert _findings(nb)[1] == _text("labels_out_of_order", cell=_text("labels_cell"), count=_count(LABELS),
                                     above=f"セル {LOAD_DATA + 1} (「X_train, X_test, y_train, y_test = lo...」)",
                                     above_count=41)


def test_name_from_a_deleted_cell_is_reported():
    # X_small was defined in a cell the student deleted; its value still sat in their kernel.
    nb = _ran(_filled())
    nb.cells[PRACTICE10].source = nb.cells[PRACTICE10].source.replace("model.fit(X_train,", "model.fit(X_small,")
    assert _findings(nb) == [_text("undefined", name="X_small", cell="練習10")]


def test_name_defined_only_below_its_use_is_reported():
    nb = _ran(_filled())
    nb.cells.insert(PRACTICE11 + 1, nbformat.v4.new_code_cell("n_epochs = 5", execution_count=1))
    nb.cells[PRACTICE10].source = nb.cells[PRACTICE10].source.replace("epochs=5", "epochs=n_epochs")
    findings = _findings(nb)
    assert _text("defined_below", name="n_epochs", cell="練習10", below=f"セル {PRACTICE11 + 2} (「n_epochs = 5」)") in findings


def test_deleted_check_cell_and_label_cell_are_reported():
    nb = _ran(_filled())
    del nb.cells[CHECK_ARCH]
    del nb.cells[LABELS]
    assert _findings(nb)[:2] == [_text("missing", cell=messages.title("check_architecture", "ja")),
                                 _text("labels_missing")]


def test_check_cells_moved_out_of_the_released_order_are_reported():
    nb = _ran(_filled())
    nb.cells[CHECK_ARCH], nb.cells[CHECK_ARCH + 1] = nb.cells[CHECK_ARCH + 1], nb.cells[CHECK_ARCH]
    for number, cell in enumerate((c for c in nb.cells if c.cell_type == "code"), 1):
        cell.execution_count = number  # run top to bottom after the move: only the move is reported
    assert _findings(nb) == [_text("checks_moved")]


def test_ordinary_python_and_ipython_do_not_raise_false_alarms():
    nb = _ran(_filled())
    extra = [
        "%matplotlib inline\n!pip list > /dev/null",
        "def show(i):\n    return later_global[i]   # read when called, not now",
        "squares = [k * k for k in range(3)]\nfor j, v in enumerate(squares):\n    pass\nprint(j, v, _)",
        "match squares:\n    case [first, *rest]:\n        print(first, rest)\n    case {'k': kv, **others}:\n        print(kv, others)",
        "class Note:\n    size = len(squares)\n\ntry:\n    import missing_module\nexcept ImportError as err:\n    print(err)",
        "later_global = {0: 'a'}\nwith open('/dev/null') as fh:\n    fh.read()\n(walrus := 3)\nprint(walrus, Note, show(0), In, Out)",
    ]
    for offset, source in enumerate(extra):
        nb.cells.append(nbformat.v4.new_code_cell(source, execution_count=100 + offset))
    assert _findings(nb) == []


def test_star_import_or_exec_switches_the_name_check_off():
    nb = _ran(_filled())
    nb.cells[PRACTICE10].source += "\nprint(undefined_thing)"
    assert _findings(nb) == [_text("undefined", name="undefined_thing", cell="練習10")]
    nb.cells.append(nbformat.v4.new_code_cell("from math import *", execution_count=200))
    assert _findings(nb) == []


def test_never_run_notebook_says_so_once():
    nb = _filled()
    assert _findings(nb) == [_text("not_run")]


def test_syntax_error_is_reported():
    nb = _ran(_filled())
    nb.cells[PRACTICE10].source += "\nmodel.fit(X_train, y_train"
    assert _findings(nb)[0] == _text("syntax_error", cell="練習10")


# --- The command without a kernel (--no-run) and its bad input ---------------------------

def test_no_run_exit_codes_and_languages(tmp_path):
    clean, messy = tmp_path / "clean.ipynb", tmp_path / "messy.ipynb"
    nbformat.write(_ran(_filled()), clean)
    nbformat.write(_ran(_filled(), {LABELS: None}), messy)

    ok = _check(clean, "--no-run")
    assert (ok.returncode, ok.stdout.splitlines(), ok.stderr) == (0, [_text("saved_clean")], "")
    bad = _check(messy, "--no-run", lang="en")
    assert bad.returncode == 1
    assert bad.stdout.splitlines() == [_text("saved_header", "en"),
                                       "  ⚠ " + _text("labels_not_run", "en", cell=_text("labels_cell", "en"))]


@pytest.mark.parametrize(("content", "message"), [
    (None, lambda path: _text("no_file", path=path)),
    (b"", lambda path: _text("unreadable", path=path, reason="the file is empty")),
], ids=["missing", "empty"])
def test_bad_input_is_one_line_and_exit_2(tmp_path, content, message):
    path = tmp_path / NOTEBOOK
    if content is not None:
        path.write_bytes(content)
    proc = _check(path)
    assert (proc.returncode, proc.stdout, proc.stderr) == (2, "", f"✘ {message(path)}\n")


def test_check_imports_nothing_of_the_grader_stack():
    code = ("import sys; import autograder.__main__ as m; import autograder.student_check; "
            "print(sorted({n.split('.')[0] for n in sys.modules} & {'nbgrader', 'dask', 'distributed', 'jinja2', "
            "'matplotlib', 'pandas', 'tensorflow', 'keras'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# --- The full run in a fresh kernel (three notebooks) --------------------------------------

def _passed_lines(lang: str) -> list[str]:
    return [f"  {messages.text('check.self_passed', lang, title=messages.title(c, lang))}" for c in CHECK_POINTS]


def test_correct_notebook_saved_out_of_order_passes_and_says_how_it_was_saved(tmp_path):
    path = tmp_path / NOTEBOOK
    nbformat.write(_ran(_filled(), {SCALING: None}), path)
    proc = _check(path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[:3] == [_text("running", path=NOTEBOOK), _text("saved_header"),
                         "  ⚠ " + _text("never_run", cell=f"セル {SCALING + 1} (「X_train = X_train / 255.0」)")]
    assert [ln for ln in lines if ln.startswith("  ✔")] == _passed_lines("ja")
    assert ["練習10", "練習11", "練習12"] == [ln for ln in lines if ln.startswith("練習")]
    assert lines[-1] == _text("summary_pass", total=len(CHECK_POINTS))


def test_argmax_axis0_fails_with_the_whole_hint_in_english(tmp_path):
    path = tmp_path / NOTEBOOK
    nbformat.write(_filled("s02_argmax_axis0"), path)
    proc = _check(path, lang="en")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    title = messages.title("check_argmax_axis", "en")
    problem, hint = messages.mistake_text("argmax.axis0", "en")
    assert f"  ✘ {title}: {problem}" in lines
    assert f"  {messages.text('check.hint', 'en', hint=hint)}" in lines
    assert max(map(len, lines)) > 90  # nbgrader validate would have cut these
    passed = [ln for ln in lines if ln.startswith("  ✔")]
    assert passed == [p for p in _passed_lines("en") if messages.title("check_argmax_axis", "en") not in p
                      and messages.title("check_accuracy_score", "en") not in p]
    assert lines[-1] == _text("summary_fail", "en", total=len(CHECK_POINTS), failed=2)


def test_name_from_a_deleted_cell_fails_the_fresh_run(tmp_path):
    path = tmp_path / NOTEBOOK
    nb = _ran(_filled())
    nb.cells[PRACTICE11].source = "predictions = model.predict(X_kept)\n" + nb.cells[PRACTICE11].source
    nbformat.write(nb, path)
    proc = _check(path)
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert "  ⚠ " + _text("undefined", name="X_kept", cell="練習11") in lines
    assert "  " + _text("cell_error", cell="練習11", error="NameError: name 'X_kept' is not defined") in lines
    # The four checks of practices 11 and 12 fail: their names were never defined.
    assert lines[-1] == _text("summary_fail", total=len(CHECK_POINTS), failed=4)
