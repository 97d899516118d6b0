"""A failed check names its cause: the student's own exception and the likely mistake, or the slip.

Fast and in-process, on the tiny fake MNIST of ``test_checks``. The exceptions are raised for
real by TensorFlow, Keras, scikit-learn and Python, so a version that rewords them fails here.
The kernel side runs real cells in an IPython shell; the clean-process side goes through the
clean process's request handler with saved artifacts.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import keras
import numpy as np
import pytest
import tensorflow as tf
from nbformat.v4 import new_code_cell, new_output
from sklearn.metrics import accuracy_score

from autograder import artifacts, clean_process, crashes, messages
from autograder.cells import CheckFailed, verify
from autograder.context import Context
from autograder.verdict import Verdict
from test_checks import DATA, P10, P11, P12, SOURCES, build, check, solve, student_arrays

LOAD = SOURCES[0]
P12_AXIS0 = P12.replace("axis=1", "axis=0")


def _record(raise_it: Callable[[], Any]) -> dict[str, str]:
    """The ``{"ename", "evalue"}`` record of the exception ``raise_it`` raises, as IPython keeps it."""
    try:
        raise_it()
    except Exception as exc:  # noqa: BLE001 - whatever the library raises is the point
        return {"ename": type(exc).__name__, "evalue": str(exc)}
    raise AssertionError("expected an exception")


def _fit(model: keras.Model, y: np.ndarray, X: np.ndarray | None = None) -> None:
    model.fit(student_arrays()["X_train"] if X is None else X, y, epochs=1, verbose=0)


def _compiled(*layers: keras.layers.Layer, loss: Any = None, metrics: Any = ("accuracy",)) -> keras.Model:
    model = keras.Sequential(list(layers) or [keras.layers.Dense(10)])
    model.compile(optimizer="adam", metrics=list(metrics) if isinstance(metrics, tuple) else metrics,
                  loss=loss or keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


_Y = student_arrays()["y_train"]
_PROBABILITY = np.full((len(DATA.y_test), 10), 0.1)

# Each real crash of a common mistake, and the cause its message must get.
CRASHES: dict[str, tuple[Callable[[], Any], str]] = {
    "labels_not_converted": (lambda: _fit(_compiled(), DATA.y_train), "crash.string_labels"),
    "accuracy_on_string_labels": (lambda: accuracy_score(DATA.y_test, np.zeros(len(DATA.y_test), int)),
                                  "crash.string_labels"),
    "argmax_axis0": (lambda: accuracy_score(DATA.y_test.astype(int), np.argmax(_PROBABILITY, axis=0)),
                     "crash.sample_count"),
    "dense1": (lambda: _fit(_compiled(keras.layers.Dense(1)), _Y), "crash.label_range"),
    "categorical_on_integers": (
        lambda: _fit(_compiled(loss=keras.losses.CategoricalCrossentropy(from_logits=True)), _Y),
        "crash.label_shape"),
    "one_hot_with_sparse_loss": (lambda: _fit(_compiled(), keras.utils.to_categorical(_Y, 10)),
                                 "crash.label_shape"),
    "flatten_28x28": (lambda: _fit(_compiled(keras.layers.Flatten(input_shape=(28, 28)), keras.layers.Dense(10)),
                                   _Y), "crash.input_shape"),
    "fit_before_compile": (lambda: _fit(keras.Sequential([keras.layers.Dense(10)]), _Y), "crash.compile_first"),
    "metrics_string": (lambda: _fit(_compiled(metrics="accuracy"), _Y), "crash.metrics_list"),
    "adam_lr": (lambda: tf.keras.optimizers.Adam(lr=0.01), "crash.lr_argument"),
    "predict_classes": (lambda: keras.Sequential([keras.layers.Dense(10)]).predict_classes(DATA.X_test),
                        "crash.predict_classes"),
    "accuracy_of_probabilities": (lambda: accuracy_score(DATA.y_test.astype(int), _PROBABILITY),
                                  "crash.score_inputs"),
    "evaluate_without_metric": (lambda: exec("a, b = 0.5"), "crash.evaluate_unpack"),
    "typo": (lambda: exec("X_tset"), "crash.name_error"),
    "syntax": (lambda: compile("model = (", "cell.py", "exec"), "crash.syntax"),
    "missing_module": (lambda: __import__("no_such_module_here"), "crash.module_missing"),
    "stub_left": (lambda: exec("model = 1\nraise NotImplementedError()"), "crash.stub_left"),
    "anything_else": (lambda: 1 / 0, "crash.other"),
}


@pytest.mark.filterwarnings("ignore::UserWarning")  # Keras warns about input_shape on a layer
@pytest.mark.parametrize("name", sorted(CRASHES))
def test_each_common_crash_gets_its_cause(name):
    raise_it, cause = CRASHES[name]
    crash = crashes.Crash.from_record(_record(raise_it))
    assert crash is not None and crash.cause == cause, crash
    assert (crash.error or name == "stub_left") and "\n" not in crash.error and len(crash.error) <= crashes.ERROR_LIMIT
    assert not crash.error.endswith("."), crash.error


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_tensorflow_errors_are_cut_to_their_cause_line():
    crash = crashes.Crash.from_record(_record(CRASHES["labels_not_converted"][0]))
    assert (crash.error_type, crash.error) == ("UnimplementedError", "Cast string to float is not supported")
    crash = crashes.Crash.from_record(_record(CRASHES["dense1"][0]))
    assert crash.error == "Received a label value of 9 which is outside the valid range of [0, 1)"
    crash = crashes.Crash.from_record(_record(CRASHES["flatten_28x28"][0]))
    assert crash.error.startswith("Invalid input shape for input"), crash.error  # Keras' wrapper line skipped
    assert "\x1b" not in crash.error


def test_an_exception_without_a_message_is_told_by_its_type():
    record = _record(CRASHES["stub_left"][0])
    verdict = check("check_loss", {"model": keras.Sequential([keras.layers.Dense(10)]), "loss_fn": object()},
                    errors=[None, record])
    assert verdict.fields["crash_error"] == ""
    assert verdict.lines("ja")[0] == ("✘ 損失関数の設定 (練習10): 練習10 のセルが NotImplementedError で止まりました。"
                                      "`model` がコンパイルされていません。")
    assert "raise NotImplementedError()" in verdict.lines("en")[1]


@pytest.mark.parametrize("record", [None, "ValueError", {"ename": 3, "evalue": "x"},
                                    {"ename": "not a name", "evalue": "x"}, {"ename": "ValueError", "evalue": b"x"}])
def test_malformed_records_are_no_crash(record):
    assert crashes.Crash.from_record(record) is None


# --- The message names the crash ----------------------------------------------------------------

def _without(ns: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in ns.items() if k not in names}


@pytest.fixture(scope="module")
def lesson_ns() -> dict[str, Any]:
    return solve(build())


def test_issue_example_accuracy_score_on_axis0_predictions(lesson_ns):
    """The issue's example: `accuracy` missing because accuracy_score raised on 10 predictions."""
    ns = {**_without(lesson_ns, "accuracy", "eval_loss", "eval_accuracy"),
          "y_predict": np.argmax(lesson_ns["probability"], axis=0)}
    error = _record(lambda: accuracy_score(ns["y_test"], ns["y_predict"]))
    sources = [LOAD, P10, P11, P12_AXIS0]
    verdict = check("check_accuracy_score", ns, sources, errors=[None, None, None, error])
    assert verdict.mistake_id == "input.missing"  # the id stays; the message names the cause
    assert verdict.fields == {"name": "accuracy", "cell": "practice12", "cause": "crash.sample_count",
                              "crash_cell": "practice12", "crash_type": "ValueError",
                              "crash_error": "Found input variables with inconsistent numbers of samples: [30, 10]"}
    problem, hint = verdict.lines("ja")
    assert problem == ("✘ 正解率の計算 (練習12): 練習12 のセルが ValueError で止まりました: Found input variables "
                       "with inconsistent numbers of samples: [30, 10]。変数 `accuracy` が定義されていません。")
    assert "y_predict" in hint and "axis=1" in hint
    assert verdict.lines("en")[0].startswith("✘ Accuracy computation (Practice 12): The Practice 12 cell stopped "
                                             "with ValueError: Found input variables")
    assert check("check_accuracy_score", ns, sources, errors=[None, None, None, error], self_check=True) == verdict


def test_a_crash_upstream_is_named_in_the_later_practices(lesson_ns):
    ns = _without(lesson_ns, "predictions", "probability", "first_label", "y_predict", "accuracy",
                  "eval_loss", "eval_accuracy")
    typo = P11.replace("model.predict(X_test)", "model.predict(X_tset)")
    error = _record(lambda: exec("X_tset", {}))
    second = _record(lambda: exec("probability", {}))  # Practice 12 then fails on the missing name
    verdict = check("check_argmax_axis", ns, [LOAD, P10, typo, P12], errors=[None, None, error, second])
    assert verdict.mistake_id == "input.missing_upstream"
    assert (verdict.fields["cause"], verdict.fields["crash_cell"]) == ("crash.name_error", "practice11")
    assert verdict.lines("ja")[0].startswith(
        "✘ 全画像の予測ラベル (練習12): 練習11 のセルが NameError で止まりました: name 'X_tset' is not defined。")


def test_skipped_label_cell_says_the_labels_are_still_strings():
    """Issue 12's slip: without the label cell, fit crashes and the model stays unfitted."""
    model = _compiled()
    error = _record(lambda: _fit(model, DATA.y_train))
    verdict = check("check_training", {"model": model}, errors=[None, error])
    assert (verdict.mistake_id, verdict.fields["cause"]) == ("training.not_fitted", "crash.string_labels")
    problem, hint = verdict.lines("ja")
    assert "UnimplementedError" in problem and "Cast string to float is not supported" in problem
    assert "学習 (`fit`) されていません" in problem
    assert "文字列" in hint and "astype(int)" in hint
    assert "strings" in verdict.lines("en")[1]


def test_compile_crash_explains_not_compiled():
    model = keras.Sequential([keras.layers.Dense(10)])
    error = _record(lambda: tf.keras.optimizers.Adam(lr=0.01))
    sources = [LOAD, P10.replace("optimizer='adam'", "optimizer=tf.keras.optimizers.Adam(lr=0.01)")]
    for check_id in ("check_loss", "check_training"):
        verdict = check(check_id, {"model": model, "loss_fn": object()}, sources, errors=[None, error])
        assert verdict.fields["cause"] == "crash.lr_argument", check_id
        assert "learning_rate" in verdict.lines("ja")[1]


def test_a_model_left_unreadable_by_a_crashed_cell_names_the_crash():
    """A fit that crashed on a misspelt loss leaves a model the clean process cannot reload."""
    error = _record(lambda: keras.losses.get("categorial_crossentropy"))
    model = artifacts.Unreadable("model", "ValueError: A total of 1 objects could not be loaded")
    for check_id in ("check_architecture", "check_loss", "check_training"):
        verdict = check(check_id, {"model": model}, errors=[None, error])
        assert verdict.mistake_id == "input.unreadable", check_id  # the id stays: it fails closed
        assert (verdict.fields["cause"], verdict.fields["crash_cell"]) == ("crash.other", "practice10"), check_id
        assert "練習10 のセルが ValueError で止まりました" in verdict.lines("ja")[0]
        assert "categorial_crossentropy" in verdict.lines("ja")[0]
    # without a crash the plain reason is all there is
    assert "cause" not in check("check_architecture", {"model": model}, errors=[None, None]).fields


def test_a_later_successful_run_of_the_cell_is_not_blamed(lesson_ns):
    ns = _without(lesson_ns, "eval_accuracy")
    error = _record(lambda: exec("a, b = 0.5"))
    # Practice 12 crashed once, then ran again without an error: no crash to report
    verdict = check("check_accuracy_score", ns, [LOAD, P10, P11, P12, P12], errors=[None, None, None, error, None])
    assert verdict.mistake_id == "input.missing" and "cause" not in verdict.fields


def test_crashes_never_change_a_passing_verdict_or_an_unrelated_mistake(lesson_ns):
    error = _record(lambda: 1 / 0)
    errors = [error] * len(SOURCES)
    for check_id in ("check_architecture", "check_probability", "check_accuracy_score"):
        assert check(check_id, lesson_ns, errors=errors).passed, check_id
    ns = {**lesson_ns, "y_predict": np.argmin(lesson_ns["probability"], axis=1)}
    verdict = check("check_argmax_axis", ns, errors=errors)
    assert verdict.mistake_id == "argmax.wrong_values" and "cause" not in verdict.fields


def test_cell_errors_reads_the_first_error_output_of_each_cell():
    cells = [new_code_cell("x = 1"),
             new_code_cell("y", outputs=[new_output("stream", name="stdout", text="hi"),
                                         new_output("error", ename="NameError", evalue="name 'y' is not defined",
                                                    traceback=[]),
                                         new_output("error", ename="Other", evalue="second", traceback=[])])]
    assert crashes.cell_errors(cells) == [None, {"ename": "NameError", "evalue": "name 'y' is not defined"}]
    long = "Graph execution error:\n" + "x" * 20000 + "\nthe cause"
    cell = new_code_cell("z", outputs=[new_output("error", ename="E", evalue=long, traceback=[])])
    (clipped,) = crashes.cell_errors([cell])
    assert len(clipped["evalue"]) < 10000 and clipped["evalue"].endswith("the cause")


# --- Both places a verdict is computed -------------------------------------------------------------

@pytest.fixture
def shell(monkeypatch):
    """A real IPython shell whose cells run in a fresh namespace with the fake data."""
    from IPython.core.interactiveshell import InteractiveShell

    import autograder.cells

    monkeypatch.setattr(autograder.cells, "Context",
                        lambda namespace, sources, **kwargs: Context(namespace, sources, loader=lambda: DATA, **kwargs))
    # The shell puts its own module in sys.modules["__main__"]; give the real one back afterwards.
    monkeypatch.setitem(sys.modules, "__main__", sys.modules["__main__"])
    shell = InteractiveShell.instance()
    shell.reset(new_session=True)
    shell.user_ns.update(student_arrays())
    shell.user_ns.update(np=np, tf=tf, accuracy_score=accuracy_score, verify=verify)
    yield shell
    shell.reset(new_session=True)
    InteractiveShell.clear_instance()


def _verify_in(shell, check_id: str) -> list[str]:
    """Run the check cell in ``shell``; its failure lines."""
    result = shell.run_cell(f"verify({check_id!r}, globals())", silent=False, store_history=True)
    assert isinstance(result.error_in_exec, CheckFailed), result
    return result.error_in_exec.lines


def _p12_axis0_cells(shell) -> None:
    shell.user_ns.update(model=build(), probability=np.full((len(DATA.y_test), 10), 0.1))
    shell.user_ns["probability"][:, 3] = 0.2
    result = shell.run_cell(P12_AXIS0, store_history=True)
    assert isinstance(result.error_in_exec, ValueError)


@pytest.mark.parametrize("record", ["ipython", "hook"])
def test_the_kernel_self_check_names_the_crash(shell, monkeypatch, record, capsys):
    if record == "hook":  # an IPython without its own record of exceptions, as on Colab
        monkeypatch.setattr(crashes, "_ipython_record", lambda shell: None)
        monkeypatch.setattr(crashes, "_RECORDED", {})
    _p12_axis0_cells(shell)
    assert _verify_in(shell, "check_argmax_axis")[0].startswith("✘ 全画像の予測ラベル (練習12): `axis=0`")
    # the crash is two cells back now; the self-check of the next cell still names it
    lines = _verify_in(shell, "check_accuracy_score")
    assert lines[0].startswith("✘ 正解率の計算 (練習12): 練習12 のセルが ValueError で止まりました: "
                               "Found input variables with inconsistent numbers of samples: [30, 10]")
    assert "axis=1" in lines[1]


def test_the_kernel_record_belongs_to_the_shells_own_history(shell):
    _p12_axis0_cells(shell)
    history = shell.user_ns["In"]
    assert crashes.kernel_errors(history)[-1]["ename"] == "ValueError"
    assert crashes.kernel_errors(list(history)) == [None] * len(history)  # another list of sources


def test_the_clean_process_names_the_crash_from_the_error_outputs(tmp_path, monkeypatch, lesson_ns):
    monkeypatch.setattr("autograder.context.load_dataset", lambda announce=False: DATA)
    ns = {**_without(lesson_ns, "accuracy", "eval_loss", "eval_accuracy"),
          "y_predict": np.argmax(lesson_ns["probability"], axis=0)}
    artifacts.save_artifacts(ns, str(tmp_path))
    error = _record(lambda: accuracy_score(ns["y_test"], ns["y_predict"]))
    request = {"artifacts": str(tmp_path), "sources": [LOAD, P10, P11, P12_AXIS0], "errors": [None, None, None, error]}
    answer = json.loads(json.dumps(clean_process._answer(json.loads(json.dumps(request)))))
    clean = Verdict.from_json(answer["verdicts"]["check_accuracy_score"])
    kernel = check("check_accuracy_score", ns, request["sources"], errors=request["errors"], self_check=True)
    assert clean.lines() == kernel.lines()  # the same message in the kernel and in the clean process
    assert clean.fields["cause"] == "crash.sample_count"
    # errors that are not a list, or records of the wrong shape, are ignored
    for errors in ("ValueError", [42, None, {"ename": None}, "x"]):
        answer = clean_process._answer({**request, "errors": errors})
        assert Verdict.from_json(answer["verdicts"]["check_accuracy_score"]).fields == \
            {"name": "accuracy", "cell": "practice12"}


# --- Slips with the test data ----------------------------------------------------------------------

@pytest.mark.parametrize(("change", "cause", "extra"), [
    (lambda X: X / 255.0 / 255.0, "data.scaled_twice", {}),
    (lambda X: X * 2.0, "data.rescaled", {"factor": "2"}),
    (lambda X: (X - X.mean()) / X.std(), "data.normalized", {}),
    (lambda X: (X / 255.0).reshape(-1, 28, 28), "data.reshaped", {"shape": "(30, 28, 28)", "expected": "(30, 784)"}),
    (lambda X: X[:10] / 255.0, "data.rows", {"rows": 10, "expected": 30}),
    (lambda X: DATA.X_train / 255.0, "data.training_set", {}),
])
def test_changed_test_data_names_the_likely_slip(lesson_ns, change, cause, extra):
    ns = {**lesson_ns, "X_test": change(np.asarray(DATA.X_test, dtype=np.float64))}
    verdict = check("check_accuracy", ns)
    assert (verdict.mistake_id, verdict.fields) == ("input.test_data_changed", {"cause": cause, **extra})
    problem, hint = verdict.lines("ja")
    assert problem.startswith("✘ テストデータでの正解率 (練習10): `X_test` が配布したテストデータと一致しません")
    assert hint == "ヒント: " + messages.CAUSES[cause].hint["ja"].format(**extra)


def test_scaling_cell_run_twice_is_named_in_the_message(lesson_ns):
    verdict = check("check_probability", {**lesson_ns, "X_test": DATA.X_test / 255.0 / 255.0}, self_check=True)
    problem, hint = verdict.lines("ja")
    assert "255 で 2 回割った" in problem and "2 回実行" in hint
    assert "twice" in verdict.lines("en")[0]


def test_unrecognisable_test_data_keeps_the_plain_message(lesson_ns):
    rng = np.random.default_rng(1)
    verdict = check("check_accuracy", {**lesson_ns, "X_test": rng.uniform(0, 1, DATA.X_test.shape)})
    assert (verdict.mistake_id, verdict.fields) == ("input.test_data_changed", {})
