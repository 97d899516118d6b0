"""Hostile and broken submissions, each with the verdict every check cell must reach.

Student code runs in the grading kernel, next to the test cells. These submissions exit or
kill the kernel, exhaust memory or processes, patch NumPy, scikit-learn, Keras and the grader
itself, fake outputs, edit or delete test cells, and reach for files and the network. Graded
by the bulk grader, each must get exactly these points while the batch goes on.

``{root}`` in an answer is replaced by the course directory of the test run, and
``{port}`` by a TCP port a test server listens on.
"""

from __future__ import annotations

import nbformat

from hostile_kit import (  # noqa: F401 - re-exported for the test modules
    AXIS0, NO_SOFTMAX, NOT_FITTED, P10, P11, P12, SOLUTION, HostileCase, expect, everything,
)


def _grade_id(cell: nbformat.NotebookNode) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _edit_tests(nb: nbformat.NotebookNode) -> None:
    for cell in nb.cells:
        if (_grade_id(cell) or "").startswith("check_"):
            cell.source = "print('✔ passed')"


def _delete_tests(nb: nbformat.NotebookNode) -> None:
    nb.cells = [c for c in nb.cells if not (_grade_id(c) or "").startswith("check_")]


def _duplicate_and_split(nb: nbformat.NotebookNode) -> None:
    cells = []
    for cell in nb.cells:
        if _grade_id(cell) == "practice10":
            first, second = cell.source.split("model.compile")
            cells += [nbformat.from_dict({**cell, "source": first}),
                      nbformat.v4.new_code_cell("model.compile" + second)]
        elif (_grade_id(cell) or "").startswith("check_"):
            cells += [cell, nbformat.from_dict(cell)]
        else:
            cells.append(cell)
    nb.cells = cells


_NOISY_HOOK = """
import sys
get_ipython().events.register("post_run_cell", lambda result: sys.stderr.write("noise\\n"))
"""

CASES: list[HostileCase] = [
    # Leaving the kernel. SystemExit is caught by IPython; the answers were already computed.
    HostileCase("h01_sys_exit", {**SOLUTION, "practice12": P12 + "\nimport sys\nsys.exit(0)"}, expect()),
    # A dead kernel: nothing can be verified, every check fails closed and a TA looks at it.
    HostileCase("h02_os_exit", {**SOLUTION, "practice11": "import os\nos._exit(1)"},
                everything("verification.notebook_stopped"), flagged=True),
    HostileCase("h03_kill_kernel", {**SOLUTION, "practice12": P12 + "\nimport os, signal\nos.kill(os.getpid(), signal.SIGKILL)"},
                everything("verification.notebook_stopped"), flagged=True),
    # Resource exhaustion inside the student's own cell: bounded, and the kernel lives on.
    HostileCase("h04_infinite_loop", {**SOLUTION, "practice12": "while True:\n    pass"},
                expect(check_argmax_axis="input.missing", check_accuracy_score="input.missing")),
    # Over the memory cap: the allocation fails at once (RLIMIT_DATA), the kernel lives, and the
    # bulk grader records the submission as failed with a zero, as it does for every memory
    # overrun (a growing bomb may instead be OOM-killed by the cgroup: also a zero).
    HostileCase("h05_memory_bomb", {**SOLUTION, "practice12": P12 + "\nbomb = bytearray(64 * 2**30)"},
                everything("failed"), failure="ran out of memory"),  # no verdicts: zeroed whole
    HostileCase("h06_fork_bomb", {**SOLUTION, "practice12": P12 + (
        "\nimport os, time\nfor _ in range(100000):\n    try:\n        pid = os.fork()\n    except OSError:\n        break\n"
        "    if pid == 0:\n        time.sleep(3600)\n        os._exit(0)")},
                # With every process slot taken the kernel cannot start a thread and stops:
                # bounded, and failed closed like any dead kernel.
                everything("verification.notebook_stopped"), flagged=True),
    # Patching libraries and the grader in the kernel: the clean process is not fooled.
    HostileCase("h07_patch_numpy", {**NO_SOFTMAX, "practice11": "import numpy\nnumpy.allclose = lambda *a, **k: True\n" + NO_SOFTMAX["practice11"]},
                expect(check_probability="probability.is_logits"), flagged=True),
    HostileCase("h08_patch_sklearn", {**SOLUTION, "practice12": "import sklearn.metrics\nsklearn.metrics.accuracy_score = lambda *a, **k: 1.0\nfrom sklearn.metrics import accuracy_score\n" + P12},
                expect(check_accuracy_score="accuracy_score.mismatch")),
    HostileCase("h09_patch_keras_evaluate", {**SOLUTION, "practice12": P12.replace("eval_loss, eval_accuracy = model.evaluate", "model.evaluate = lambda *a, **k: [0.0, 0.999]\neval_loss, eval_accuracy = model.evaluate")},
                expect(check_accuracy_score="accuracy_score.evaluate_mismatch")),
    HostileCase("h10_patch_autograder_checks", {**NOT_FITTED, "practice10": NOT_FITTED["practice10"] + "\nimport autograder.checks as _c\n_c.CHECKS.update({k: (lambda ctx, full: ()) for k in _c.CHECKS})"},
                expect(check_training="training.not_fitted", check_accuracy="accuracy.below_threshold"), flagged=True),
    HostileCase("h11_patch_verify", {**SOLUTION, "practice10": "import autograder.cells\nautograder.cells.verify = lambda *a, **k: None\n" + P10.replace("Dense(10)", "Dense(1)")},
                expect(check_architecture="architecture.wrong_units", check_training="training.not_fitted",
                       check_accuracy="architecture.wrong_units", check_probability="probability.wrong_shape",
                       check_accuracy_score="input.missing"), flagged=True),
    HostileCase("h12_eq_always_true", {**SOLUTION, "practice11": P11 + "\nclass _Same:\n    def __eq__(self, other):\n        return True\nfirst_label = _Same()"},
                expect(check_first_label="input.unreadable")),
    HostileCase("h13_showtraceback", {**NO_SOFTMAX, "practice10": P10 + "\nget_ipython().showtraceback = lambda *a, **k: None"},
                expect(check_probability="probability.is_logits")),
    HostileCase("h14_stderr_hook", {**SOLUTION, "practice12": P12 + _NOISY_HOOK}, expect(), flagged=True),
    # Test cells edited, deleted, duplicated, split: the instructor's tests still run, once.
    HostileCase("h15_edited_tests", AXIS0, expect(check_argmax_axis="argmax.axis0", check_accuracy_score="input.missing"),
                mutate=_edit_tests),
    HostileCase("h16_deleted_tests", AXIS0, expect(check_argmax_axis="argmax.axis0", check_accuracy_score="input.missing"),
                mutate=_delete_tests),
    HostileCase("h17_duplicated_split", SOLUTION, expect(), mutate=_duplicate_and_split),
    HostileCase("h18_fake_passed", {**AXIS0, "practice12": "print('✔ 全画像の予測ラベル (練習12): 合格しました。')\n" + AXIS0["practice12"]},
                expect(check_argmax_axis="argmax.axis0", check_accuracy_score="input.missing")),
    # Reaching outside: every attempt that succeeds would cost the answer (model = None).
    HostileCase("h19_write_gradebook_and_others", {**SOLUTION, "practice12": P12 + (
        "\nfor _p in ['{root}/gradebook.db', '{root}/source/nn_basics/nn_basics.ipynb',"
        " '{root}/submitted/h01_sys_exit/nn_basics/nn_basics.ipynb', '{root}/autograded/h01_sys_exit/nn_basics/nn_basics.ipynb']:\n"
        "    try:\n        open(_p, 'a').write('tampered')\n        model = None\n    except OSError:\n        pass")}, expect()),
    HostileCase("h20_read_source", {**SOLUTION, "practice10": P10 + (
        "\ntry:\n    open('{root}/source/nn_basics/nn_basics.ipynb').read()\n    model = None\nexcept OSError:\n    pass")},
                expect()),
    HostileCase("h21_network", {**SOLUTION, "practice10": P10 + (
        "\nimport socket\ntry:\n    socket.create_connection(('127.0.0.1', {port}), timeout=3).close()\n    model = None\nexcept OSError:\n    pass")},
                expect()),
    HostileCase("h22_megabytes_of_output", {**SOLUTION, "practice11": P11 + "\nfor _ in range(20):\n    print('x' * 250_000)"}, expect()),
    # Models that are not the lesson's.
    HostileCase("h23_memorise_test_set", {**SOLUTION, "practice10": P10 + "\nmodel.fit(X_test, y_test, epochs=30, verbose=0)"},
                expect(check_training="training.fit_on_test_set")),
    HostileCase("h24_huge_model", {**SOLUTION, "practice10": P10.replace(
        "tf.keras.layers.Dense(10)", "tf.keras.layers.Dense(3000, activation='relu'),\n    tf.keras.layers.Dense(10)").replace("epochs=5", "epochs=1")},
                # The kernel passes the compile and fit checks; the clean process cannot take a
                # model this large, so the two disagree and a TA is told. The checks on the
                # student's own arrays are still decided, on the verified probability table.
                expect(**{c: "input.unreadable" for c in ("check_architecture", "check_loss", "check_training",
                                                          "check_accuracy", "check_probability")}),
                flagged=True),
    HostileCase("h25_pickled_object", {**SOLUTION, "practice12": P12 + "\nimport fractions\naccuracy = fractions.Fraction(9, 10)"},
                expect(check_accuracy_score="input.unreadable")),
]

# Attack families added later, each in its own module; all are graded in the same batch.
from hostile_folder import CASES as _FOLDER  # noqa: E402
from hostile_forgery import CASES as _FORGERY  # noqa: E402
from hostile_clean import CASES as _CLEAN  # noqa: E402
from hostile_training import CASES as _TRAINING  # noqa: E402

CASES += [*_FORGERY, *_TRAINING, *_CLEAN, *_FOLDER]
