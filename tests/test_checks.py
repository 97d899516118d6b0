"""Fast unit tests of the checks, without nbgrader or a kernel.

Each test builds a tiny Keras model and a namespace like the notebook's by hand, on a small fake
MNIST (60 training and 30 test "digits" whose class is a bright block of pixels), and runs one
check through :class:`~autograder.context.Context` with that data as its loader. The corpus
(``test_corpus``) covers the same ground end to end through nbgrader; these cover the edge
cases cheaply and say precisely which rule a regression broke.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

from collections.abc import Sequence  # noqa: E402
from typing import Any  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import scipy.special  # noqa: E402
import tensorflow as tf  # noqa: E402

from autograder import checks, messages, review, source_scan  # noqa: E402
from autograder.cells import CheckFailed, verify  # noqa: E402
from autograder.context import Context  # noqa: E402
from autograder.data import MnistData  # noqa: E402
from autograder.spec import CHECK_POINTS  # noqa: E402
from autograder.verdict import Verdict  # noqa: E402

N_TRAIN, N_TEST, BLOCK = 60, 30, 78
P10 = ("model = tf.keras.Sequential([\n    tf.keras.layers.Dense(10)\n])\n"
       "loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)\n"
       "model.compile(optimizer='adam', loss=loss_fn, metrics=['accuracy'])\n"
       "model.fit(X_train, y_train, epochs=5)")
P11 = ("predictions = model.predict(X_test)\nprobability = softmax(predictions, axis=1)\n"
       "first_label = np.argmax(probability[0])")
P12 = ("y_predict = np.argmax(probability, axis=1)\naccuracy = accuracy_score(y_test, y_predict)\n"
       "eval_loss, eval_accuracy = model.evaluate(X_test, y_test, verbose=2)")
SOURCES = ["X_train, X_test, y_train, y_test = load_mnist()", P10, P11, P12]


def _fake_split(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` images: low noise everywhere, a bright block of 78 pixels at the class's place."""
    labels = np.arange(n) % 10
    X = rng.uniform(0, 30, size=(n, 784)).astype(np.float32)
    for i, k in enumerate(labels):
        X[i, k * BLOCK:(k + 1) * BLOCK] = 200
    return X, labels


def _fake_data() -> MnistData:
    rng = np.random.default_rng(0)
    X_train, y_train = _fake_split(N_TRAIN, rng)
    X_test, y_test = _fake_split(N_TEST, rng)
    y_test = y_test.copy()
    y_test[:3] = (y_test[:3] + 1) % 10  # three test labels disagree with their images: at best 27/30
    strings = np.vectorize(str, otypes=[object])
    for a in (X_train, X_test):
        a.setflags(write=False)
    return MnistData(X_train, X_test, strings(y_train), strings(y_test), source="sample", origin="fake")


DATA = _fake_data()
BEST_ACCURACY = 27 / 30


def _ideal_weights(model: keras.Model) -> None:
    """Give the (single) Dense(10) the weights that read each class's block: 27/30 correct."""
    dense = [layer for layer in model.layers if layer.weights][-1]
    kernel = np.zeros((784, 10), dtype=np.float32)
    for k in range(10):
        kernel[k * BLOCK:(k + 1) * BLOCK, k] = 0.05
    dense.set_weights([kernel, np.zeros(10, dtype=np.float32)])


def student_arrays(scaled: bool = True) -> dict[str, np.ndarray]:
    """The notebook's data cells: copies, optionally divided by 255, labels as int."""
    factor = 255.0 if scaled else 1.0
    return {"X_train": DATA.X_train / factor, "X_test": DATA.X_test / factor,
            "y_train": DATA.y_train.astype(int), "y_test": DATA.y_test.astype(int)}


def build(layers: Sequence[keras.layers.Layer] | None = None, *, compile: bool = True,
          optimizer: Any = "adam", loss: Any = None, metrics: Sequence[Any] = ("accuracy",),
          fit: Sequence[dict] = ({"epochs": 5},), ideal: bool = True, scaled: bool = True) -> keras.Model:
    """A model as a student would make it; ``fit`` lists the keyword arguments of each fit call."""
    model = keras.Sequential(list(layers) if layers is not None else [keras.layers.Dense(10)])
    if compile:
        model.compile(optimizer=optimizer, metrics=list(metrics),
                      loss=loss if loss is not None else keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        arrays = student_arrays(scaled)
        for kwargs in fit:
            kwargs = dict(kwargs)
            rows = kwargs.pop("rows", None)
            X, y = arrays["X_train"], arrays["y_train"]
            if rows is not None:
                X, y = X[:rows], y[:rows]
            model.fit(X, y, verbose=0, **kwargs)
    if ideal:
        if not model.built:
            model.build((None, 784))
        _ideal_weights(model)
    return model


def solve(model: keras.Model, *, scaled: bool = True, **overrides: Any) -> dict[str, Any]:
    """The namespace after the lesson's Practice 11 and 12 for ``model``, with ``overrides``."""
    ns: dict[str, Any] = {**student_arrays(scaled), "model": model, "loss_fn": model.loss if model.compiled else None}
    ns["predictions"] = np.asarray(model.predict(ns["X_test"], verbose=0))
    ns["probability"] = scipy.special.softmax(ns["predictions"], axis=1)
    ns["first_label"] = np.argmax(ns["probability"][0])
    ns["y_predict"] = np.argmax(ns["probability"], axis=1)
    ns["accuracy"] = float(np.mean(ns["y_predict"] == ns["y_test"]))
    if model.compiled and model.metrics_names:
        result = model.evaluate(ns["X_test"], ns["y_test"], verbose=0)
        if isinstance(result, list) and len(result) == 2:
            ns["eval_loss"], ns["eval_accuracy"] = result
    for name, value in overrides.items():
        if value is DELETE:
            ns.pop(name, None)
        else:
            ns[name] = value(ns) if callable(value) and not isinstance(value, keras.Model) else value
    return ns


DELETE = object()


def check(check_id: str, ns: dict[str, Any], sources: Sequence[str] = SOURCES, *, self_check: bool = False,
          errors: Sequence[object] = ()) -> Verdict:
    ctx = Context(ns, list(sources), loader=lambda: DATA, errors=errors, self_check=self_check)
    return checks.run_check(check_id, ctx)


def run(check_id: str, ns: dict[str, Any], sources: Sequence[str] = SOURCES, *,
        errors: Sequence[object] = ()) -> Verdict:
    """The graded verdict, after asserting that the self-check reaches exactly the same one.

    So every test of a mistake below also proves that the student's self-check names it.
    check_accuracy is the exception (its self-check bar is lower; see its own tests).
    """
    graded = check(check_id, ns, sources, errors=errors)
    if check_id != "check_accuracy":
        assert check(check_id, ns, sources, errors=errors, self_check=True) == graded
    return graded


def mistake(check_id: str, ns: dict[str, Any], sources: Sequence[str] = SOURCES) -> str | None:
    return run(check_id, ns, sources).mistake_id


def replace(old: str, new: str, sources: Sequence[str] = SOURCES) -> list[str]:
    out = [s.replace(old, new) for s in sources]
    assert out != list(sources), old
    return out


@pytest.fixture(scope="module")
def lesson() -> keras.Model:
    """The lesson's model: Dense(10), adam, from_logits=True, 5 epochs (with ideal weights)."""
    return build()


@pytest.fixture(scope="module")
def lesson_ns(lesson) -> dict[str, Any]:
    return solve(lesson)


@pytest.fixture(scope="module")
def softmax_model() -> keras.Model:
    return build([keras.layers.Dense(10, activation="softmax")], loss="sparse_categorical_crossentropy")


# --- The lesson's answer passes everything -----------------------------------------------------

def test_lesson_answer_passes_every_check_visible_and_hidden(lesson_ns):
    for check_id in CHECK_POINTS:
        for self_check in (True, False):
            verdict = check(check_id, lesson_ns, self_check=self_check)
            assert verdict.passed, (check_id, self_check, verdict)
            accuracy_note = self_check and check_id == "check_accuracy"
            assert verdict.notes == (("accuracy.graded_against_pass_mark",) if accuracy_note else ())


def test_checks_print_nothing_to_stderr(lesson_ns, capfd):
    broken = solve(lesson_ns["model"], probability=DELETE, y_predict=np.zeros(3), accuracy="x")
    for ns in (lesson_ns, broken, {}):
        for check_id in CHECK_POINTS:
            run(check_id, ns)
    assert capfd.readouterr().err == ""


# --- check_architecture ------------------------------------------------------------------------

@pytest.mark.parametrize("layers", [
    pytest.param(lambda: [keras.Input(shape=(784,)), keras.layers.Dense(10)], id="input"),
    pytest.param(lambda: [keras.Input(shape=(784,)), keras.layers.Flatten(), keras.layers.Dense(10)], id="flatten"),
    pytest.param(lambda: [keras.layers.Dense(10, activation="linear")], id="linear"),
    pytest.param(lambda: [keras.layers.Dense(10), keras.layers.Activation("linear")], id="linear-layer"),
])
def test_architecture_accepts_neutral_variants(layers):
    assert mistake("check_architecture", {"model": build(layers(), fit=())}) is None


def test_architecture_of_an_unfitted_model_is_judged_on_a_built_clone():
    model = build(fit=(), ideal=False)
    assert not model.built
    assert mistake("check_architecture", {"model": model}) is None
    assert not model.built  # the student's model is untouched


@pytest.mark.parametrize("activation", [tf.nn.softmax, tf.nn.relu], ids=["tf.nn.softmax", "tf.nn.relu"])
def test_an_unfitted_model_with_a_tf_function_activation_is_judged_too(activation):
    """The clone keeps a ``tf.nn`` activation as an object: Keras cannot read its config back."""
    model = keras.Sequential([keras.layers.Dense(10, activation=activation)])
    model.compile(optimizer="adam", metrics=["accuracy"],
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    clone = keras.models.clone_model(model, clone_function=checks._copy_layer)  # a plain clone raises
    clone.build((None, 784))
    assert clone.layers[-1].activation is activation
    expected = "architecture.softmax_with_logits_loss" if activation is tf.nn.softmax else "architecture.nonlinear_activation"
    assert mistake("check_architecture", {"model": model}) == expected


@pytest.mark.parametrize(("layers", "expected", "fields"), [
    (lambda: [keras.layers.Dense(1)], "architecture.wrong_units", {"units": 1}),
    (lambda: [keras.layers.Dense(128, activation="relu"), keras.layers.Dense(10)], "architecture.extra_layers",
     {"count": 2}),
    (lambda: [keras.layers.Dense(10, activation="relu")], "architecture.nonlinear_activation", {"activation": "relu"}),
    (lambda: [keras.layers.Dense(10), keras.layers.ReLU()], "architecture.nonlinear_activation", {"activation": "relu"}),
    (lambda: [keras.layers.Dense(10, activation="sigmoid")], "architecture.nonlinear_activation",
     {"activation": "sigmoid"}),
    (lambda: [keras.layers.Dense(10), keras.layers.Dropout(0.2)], "architecture.unexpected_layer",
     {"layer": "Dropout"}),
    (lambda: [keras.layers.Dense(10, activation="softmax")], "architecture.softmax_with_logits_loss", {}),
    (lambda: [keras.layers.Dense(10), keras.layers.Softmax()], "architecture.softmax_with_logits_loss", {}),
])
def test_architecture_mistakes_each_have_their_message(layers, expected, fields):
    verdict = run("check_architecture", {"model": build(layers(), fit=(), ideal=False)})
    assert (verdict.mistake_id, verdict.fields) == (expected, fields)


def test_the_self_check_names_what_the_hidden_test_names():
    """The corrections of issue 12: these passed the self-check before it ran the checks in full."""
    hidden_layer = build([keras.layers.Dense(32), keras.layers.Dense(10)], fit=(), ideal=False)
    logits_false = keras.losses.SparseCategoricalCrossentropy(from_logits=False)
    cases = [
        ("check_architecture", {"model": hidden_layer}, "architecture.extra_layers"),
        ("check_loss", {"model": build(loss=logits_false, fit=(), ideal=False), "loss_fn": logits_false},
         "loss.logits_need_from_logits"),
        ("check_training", {"model": build(fit=({"epochs": 1},), ideal=False)}, "training.too_few_epochs"),
    ]
    for check_id, ns, expected in cases:
        assert check(check_id, ns, self_check=True).mistake_id == expected, check_id


@pytest.mark.parametrize("layers", [
    pytest.param(lambda: [keras.layers.Dense(10, activation="softmax")], id="dense-softmax"),
    pytest.param(lambda: [keras.layers.Dense(10), keras.layers.Softmax()], id="softmax-layer"),
    pytest.param(lambda: [keras.layers.Dense(10), keras.layers.Activation("softmax")], id="activation-layer"),
])
@pytest.mark.parametrize("loss", ["sparse_categorical_crossentropy",
                                  keras.losses.SparseCategoricalCrossentropy(from_logits=False)],
                         ids=["string", "object"])
def test_softmax_output_is_accepted_with_from_logits_false(layers, loss):
    ns = {"model": build(layers(), loss=loss, fit=(), ideal=False), "loss_fn": loss}
    assert mistake("check_architecture", ns) is None
    verdict = run("check_loss", ns)
    assert verdict.passed and verdict.notes == ("loss.softmax_equivalent",)


def test_architecture_needs_a_model():
    assert mistake("check_architecture", {"model": "Dense(10)"}) == "architecture.not_a_model"
    verdict = run("check_architecture", {"X_test": 1})
    assert (verdict.mistake_id, verdict.fields) == ("input.missing", {"name": "model", "cell": "practice10"})


# --- check_loss -----------------------------------------------------------------------------------

@pytest.mark.parametrize("loss", [
    keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    tf.keras.losses.SparseCategoricalCrossentropy(True),
], ids=["keras", "tf-positional"])
def test_loss_accepts_sparse_crossentropy_with_logits(loss):
    assert mistake("check_loss", {"model": build(loss=loss, fit=(), ideal=False), "loss_fn": loss}) is None


@pytest.mark.parametrize(("loss", "expected"), [
    (keras.losses.SparseCategoricalCrossentropy(from_logits=False), "loss.logits_need_from_logits"),
    ("sparse_categorical_crossentropy", "loss.logits_need_from_logits"),  # the alias means from_logits=False
    (keras.losses.sparse_categorical_crossentropy, "loss.logits_need_from_logits"),
    (keras.losses.CategoricalCrossentropy(from_logits=True), "loss.categorical_with_int_labels"),
    ("categorical_crossentropy", "loss.categorical_with_int_labels"),
    ("mse", "loss.wrong_loss"),
])
def test_loss_mistakes(loss, expected):
    ns = {"model": build(loss=loss, fit=(), ideal=False), "loss_fn": loss}
    assert mistake("check_loss", ns) == expected


def test_softmax_output_with_from_logits_true_fails_the_loss_check(softmax_model):
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model = build([keras.layers.Dense(10, activation="softmax")], loss=loss, fit=(), ideal=False)
    assert mistake("check_loss", {"model": model, "loss_fn": loss}) == "loss.probabilities_need_no_logits"


def test_loss_needs_loss_fn_and_compile():
    model = build(compile=False, ideal=False)
    assert mistake("check_loss", {"model": model}) == "loss.loss_fn_missing"
    assert mistake("check_loss", {"model": model, "loss_fn": object()}) == "loss.not_compiled"


def test_mismatch_messages_explain_why_in_one_sentence():
    for mistake_id in ("loss.logits_need_from_logits", "loss.probabilities_need_no_logits"):
        for lang in messages.LANGUAGES:
            problem, _ = messages.mistake_text(mistake_id, lang)
            assert problem.count("。" if lang == "ja" else ". ") <= 1, problem


# --- check_training ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("kwargs", "sources"), [
    ({"optimizer": keras.optimizers.Adam(learning_rate=0.01)}, SOURCES),
    ({"fit": ({"epochs": 10, "batch_size": 64},)}, replace("epochs=5)", "epochs=10, batch_size=64)")),
    ({"fit": ({"epochs": 3}, {"epochs": 2})}, SOURCES),  # two fit calls add up to 5 epochs
    ({"metrics": [keras.metrics.SparseCategoricalAccuracy()]}, SOURCES),
    ({"metrics": ["acc"]}, SOURCES),
])
def test_training_accepts(kwargs, sources):
    assert mistake("check_training", {"model": build(**kwargs)}, sources) is None


@pytest.mark.parametrize(("kwargs", "sources", "expected", "fields"), [
    ({"optimizer": "sgd"}, SOURCES, "training.wrong_optimizer", {"optimizer": "SGD"}),
    ({"optimizer": keras.optimizers.RMSprop()}, SOURCES, "training.wrong_optimizer", {"optimizer": "RMSprop"}),
    ({"metrics": ()}, SOURCES, "training.missing_accuracy_metric", {}),
    ({"fit": ({"epochs": 1},)}, SOURCES, "training.too_few_epochs", {"epochs": 1}),
    ({"fit": ({"epochs": 5, "rows": 20},)}, replace("fit(X_train, y_train", "fit(X_train[:20], y_train[:20]"),
     "training.partial_training_set", {"steps": 1, "expected": 2}),
    ({"fit": ()}, SOURCES, "training.not_fitted", {}),
    ({"compile": False}, SOURCES, "training.not_compiled", {}),
])
def test_training_mistakes_each_have_their_message(kwargs, sources, expected, fields):
    verdict = run("check_training", {"model": build(ideal=False, **kwargs)}, sources)
    assert (verdict.mistake_id, verdict.fields) == (expected, fields)


def test_a_subset_is_caught_whatever_the_batch_size():
    """``X_train[:20]`` is a part of the set even when the batch size cannot be read."""
    model = build(fit=({"epochs": 5, "rows": 20},), ideal=False)
    sources = replace("fit(X_train, y_train, epochs=5)", "fit(X_train[:20], y_train[:20], epochs=5, batch_size=bs)")
    verdict = run("check_training", {"model": model}, sources)
    assert (verdict.mistake_id, verdict.fields) == ("training.subset_in_source", {"code": "X_train[:20]"})


# --- check_training: every fit style, counted from the optimizer, the source and the grader's data --
#
# Each case runs a Practice 10 cell for real on the fake data (60 training rows: one pass is 2
# batches of 32, 4 of 16) and grades the model it produced against that same cell's source.

DATA_CELL = "X_train, X_test, y_train, y_test = load_mnist()"
MODEL_CELL = ("model = tf.keras.Sequential([tf.keras.layers.Dense(10)])\n"
              "model.compile(optimizer='adam', metrics=['accuracy'],\n"
              "              loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))\n")
DATASET = "tf.data.Dataset.from_tensor_slices((X_train, y_train))"


def practice10(fit_code: str) -> tuple[keras.Model, list[str]]:
    """Run the model cell plus ``fit_code`` as the student's cell; return the model and the sources."""
    code = MODEL_CELL + fit_code
    namespace: dict[str, Any] = {"tf": tf, "np": np, "X_train": DATA.X_train / 255.0,
                                 "y_train": DATA.y_train.astype(int), "X_test": DATA.X_test / 255.0,
                                 "y_test": DATA.y_test.astype(int)}
    tf.keras.utils.set_random_seed(0)
    exec(code, namespace)  # noqa: S102 - the test's own fixed code
    return namespace["model"], [DATA_CELL, "X_train = X_train / 255.0\nX_test = X_test / 255.0", code]


def training_verdict(fit_code: str) -> Verdict:
    model, sources = practice10(fit_code)
    return run("check_training", {"model": model}, sources)


@pytest.mark.parametrize("fit_code", [
    "model.fit(X_train, y_train, epochs=5)",
    "model.fit(x=X_train, y=y_train, batch_size=16, epochs=5, shuffle=False)",
    "model.fit(X_train, y_train, epochs=5, class_weight={k: 1.0 for k in range(10)})",
    # validation: held-out rows count as used
    "model.fit(X_train, y_train, epochs=5, validation_split=0.2)",
    "model.fit(X_train, y_train, epochs=5, validation_data=(X_test, y_test))",
    "from sklearn.model_selection import train_test_split\n"
    "X_tr, X_val, y_tr, y_val = train_test_split(X_train, y_train, test_size=0.25, random_state=0)\n"
    "model.fit(X_tr, y_tr, epochs=5, validation_data=(X_val, y_val))",
    # tf.data: the batch size is the pipeline's
    f"model.fit({DATASET}.shuffle(60).batch(64), epochs=5)",
    f"train_ds = {DATASET}\ntrain_ds = train_ds.shuffle(60, seed=0).batch(16).prefetch(2)\nmodel.fit(train_ds, epochs=5)",
    f"model.fit({DATASET}.batch(16).repeat(), epochs=5, steps_per_epoch=4)",
    f"model.fit({DATASET}.batch(16).repeat(5), epochs=1)",  # five passes in one Keras epoch
    # fit called more than once, or in a loop: passes add up
    "model.fit(X_train, y_train, epochs=5)\nmodel.fit(X_train, y_train, epochs=5)",
    "model.fit(X_train, y_train, epochs=3)\nmodel.fit(X_train, y_train, epochs=2, batch_size=16)",
    "for _ in range(5):\n    model.fit(X_train, y_train, epochs=1, verbose=0)",
    "model.fit(X_train, y_train, epochs=8, initial_epoch=3)",
    # batch sizes the source fixes without a literal
    "BATCH = 2 ** 4\nmodel.fit(X_train, y_train, epochs=5, batch_size=BATCH)",
    "model.fit(X_train, y_train, epochs=5, batch_size=len(X_train) // 4)",
    # EarlyStopping that did not stop before 5 epochs
    "stop = tf.keras.callbacks.EarlyStopping(monitor='loss', patience=100)\n"
    "model.fit(X_train, y_train, epochs=6, callbacks=[stop])",
    # a helper function and a permuted copy: followed as far as the source allows
    "def train(m, X, y):\n    m.fit(X, y, epochs=5, verbose=0)\ntrain(model, X_train, y_train)",
    "perm = np.random.permutation(len(X_train))\nmodel.fit(X_train[perm], y_train[perm], epochs=5)",
    # a smoke test on a few rows, or a fine-tuning on a slice, next to 5 passes over the whole set
    "model.fit(X_train[:10], y_train[:10], epochs=1)\nmodel.fit(X_train, y_train, epochs=5)",
    "model.fit(X_train, y_train, epochs=5)\nmodel.fit(X_train[:20], y_train[:20], epochs=3)",
])
def test_training_accepts_every_fit_style(fit_code):
    verdict = training_verdict("history = " + fit_code if fit_code.startswith("model.fit") else fit_code)
    assert verdict.passed, verdict


@pytest.mark.parametrize(("fit_code", "expected", "fields"), [
    ("model.fit(X_train, y_train, epochs=4)", "training.too_few_epochs", {"epochs": 4}),
    ("model.fit(X_train, y_train, epochs=5, initial_epoch=2)", "training.too_few_epochs", {"epochs": 3}),
    ("model.fit(X_train[:20], y_train[:20], epochs=5)", "training.partial_training_set", {"steps": 1, "expected": 2}),
    ("X_small, y_small = X_train[:40], y_train[:40]\nmodel.fit(X_small, y_small, epochs=5, batch_size=16)",
     "training.partial_training_set", {"steps": 3, "expected": 4}),
    ("X_train = X_train[:20]\nmodel.fit(X_train, y_train[:20], epochs=5)", "training.partial_training_set",
     {"steps": 1, "expected": 2}),
    (f"model.fit({DATASET}.batch(16).take(2), epochs=10)", "training.partial_training_set", {"steps": 2, "expected": 4}),
    (f"model.fit({DATASET}.take(30).batch(16), epochs=10)", "training.partial_training_set", {"steps": 2, "expected": 4}),
    ("model.fit(X_train, y_train, epochs=20, steps_per_epoch=1)", "training.partial_training_set",
     {"steps": 1, "expected": 2}),
    (f"model.fit({DATASET}.batch(16).repeat(), epochs=5, steps_per_epoch=2)", "training.partial_training_set",
     {"steps": 2, "expected": 4}),
    (f"model.fit({DATASET}.batch(16).take(k), epochs=5)", "training.subset_in_source",
     {"code": "tf.data.Dataset.from_tensor_slices((X_train, y_train)).batch(16).take(k)"}),
    ("model.fit(X_train, y_train, epochs=5)\nmodel.fit(X_test, y_test, epochs=5)", "training.fit_on_test_set",
     {"code": "X_test"}),
    # passes over a part do not make up for too few over the whole set
    ("model.fit(X_train, y_train, epochs=3)\nmodel.fit(X_train[:20], y_train[:20], epochs=10)",
     "training.partial_training_set", {"steps": 1, "expected": 2}),
    ("model.fit(X_train, y_train, epochs=3)\nfor _ in range(4):\n    model.fit(X_train[:20], y_train[:20])",
     "training.partial_training_set", {"steps": 1, "expected": 2}),
    ("stop = tf.keras.callbacks.EarlyStopping(monitor='loss', patience=0, min_delta=10.0)\n"
     "model.fit(X_train, y_train, epochs=20, callbacks=[stop])", "training.stopped_early", {"epochs": 2, "planned": 20}),
    ("model.fit(X_train, y_train, epochs=5, batch_size=choose_batch())", "training.fit_unreadable",
     {"code": "model.fit(X_train, y_train, epochs=5, batch_size=choose_batch())"}),
])
def test_training_mistakes_in_every_fit_style(fit_code, expected, fields):
    # The notebook's names `k` and `choose_batch()` are unknown to the grader; the run uses values.
    model, sources = practice10(fit_code.replace("choose_batch()", "16").replace("take(k)", "take(2)"))
    sources[-1] = MODEL_CELL + fit_code
    verdict = run("check_training", {"model": model}, sources)
    assert (verdict.mistake_id, verdict.fields) == (expected, fields)


# Spoofs: the history (and even the optimizer's counter) rewritten after a short fit. Written
# plainly they are named from the source; hidden in a string (exec) they contradict the
# optimizer or the fit calls. Either way the check fails with a review mistake.
_HIDE = "exec({!r})"


@pytest.mark.parametrize(("fit_code", "spoof", "plain", "hidden"), [
    ("model.fit(X_train, y_train, epochs=4)", "model.history.epoch = list(range(5))",
     "training.record_tampered", "training.record_inconsistent"),
    ("model.fit(X_train, y_train, epochs=4)",
     "model.history.epoch = list(range(5))\nmodel.history.history = {k: v + v[-1:] for k, v in model.history.history.items()}\n"
     "model.history.params['epochs'] = 5",
     "training.record_tampered", "training.history_exceeds_optimizer"),
    ("model.fit(X_train, y_train, epochs=4)",
     "model.history.epoch = list(range(5))\nmodel.history.history = {k: v + v[-1:] for k, v in model.history.history.items()}\n"
     "model.history.params['epochs'] = 5\nmodel.optimizer.iterations.assign(10)",
     "training.record_tampered", "training.history_exceeds_source"),
    ("model.fit(X_train, y_train, epochs=4)", "model.optimizer.iterations.assign(10)",
     "training.record_tampered", "training.optimizer_exceeds_source"),
    ("model.fit(X_train[perm], y_train[perm], epochs=5)", "model.history.params['steps'] = 2",
     "training.record_tampered", "training.history_exceeds_optimizer"),
    ("model.fit(X_train, y_train, epochs=5)", "setattr(model.history, 'params', {'epochs': 5, 'steps': 3})",
     "training.record_tampered", "training.history_exceeds_optimizer"),
])
def test_a_spoofed_training_record_never_earns_the_point(fit_code, spoof, plain, hidden):
    perm = "perm = np.random.permutation(len(X_train))[:30]\n"
    for written, expected in ((spoof, plain), (_HIDE.format(spoof), hidden)):
        verdict = training_verdict(perm + fit_code + "\n" + written)
        assert verdict.mistake_id == expected, (written, verdict)
        assert expected in review.REVIEW_MISTAKES


def test_a_trained_model_without_a_fit_in_the_source_is_not_believed():
    verdict = training_verdict(_HIDE.format("model.fit(X_train, y_train, epochs=5)"))
    assert verdict.mistake_id == "training.fit_not_found"
    assert verdict.mistake_id in review.REVIEW_MISTAKES


def test_reading_the_history_is_not_a_rewrite():
    verdict = training_verdict("history = model.fit(X_train, y_train, epochs=5)\n"
                               "print(history.history['loss'][-1], history.params['steps'], model.history.epoch)")
    assert verdict.passed, verdict


@pytest.mark.parametrize(("code", "origin", "subset", "full_pass", "epoch_steps", "epochs"), [
    # 4 000 rows, as on the offline sample
    ("model.fit(X_train, y_train, 64, 5)", "train", False, 63, 63, 5),  # positional batch_size, epochs
    ("net = tf.keras.Sequential()\nnet.fit(X_train, y_train, epochs=5)\nmodel = net", "train", False, 125, 125, 5),
    ("model.fit(X_train.reshape(-1, 784).astype('float32'), y_train, epochs=5)", "train", False, 125, 125, 5),
    ("model.fit(tf.constant(X_train), y_train, epochs=5, batch_size=None)", "train", False, 125, 125, 5),
    ("model.fit(X_train[:4000], y_train[:4000], epochs=5)", "train", False, 125, 125, 5),  # the whole sample
    ("model.fit(X_train[1000:], y_train[1000:], epochs=5)", "train", True, 125, 94, 5),
    ("model.fit(X_train[0], y_train[0], epochs=5)", "train", True, 125, 1, 5),
    ("ds = tf.data.Dataset.from_tensor_slices((X_train, y_train))\nds = ds.batch(100, drop_remainder=True)\n"
     "model.fit(ds, epochs=5)", "train", False, 40, 40, 5),
    ("model.fit(tf.data.Dataset.from_tensor_slices((X_train, y_train)).skip(1000).batch(32), epochs=5)",
     "train", True, 125, 94, 5),
    ("model.fit(tf.data.Dataset.from_tensor_slices((X_train, y_train)).shard(2, 0).batch(32), epochs=5)",
     "train", True, 125, None, 5),
    ("model.fit(tf.data.Dataset.from_tensor_slices((X_train, y_train)).filter(f).batch(32), epochs=5)",
     "unknown", False, 125, None, 5),  # rows not followed; a pass over the set at its batch size
    ("model.fit(X_train, y_train, epochs=5, validation_split=0.25)", "train", False, 94, 94, 5),
    ("model.fit(X_test, y_test, epochs=5)", "test", False, 125, None, 5),
])
def test_fit_calls_are_read_on_the_graders_training_set_size(code, origin, subset, full_pass, epoch_steps, epochs):
    (fit,) = source_scan.fit_calls([DATA_CELL, code], 4000)
    assert (fit.origin, fit.subset, fit.full_pass_steps, fit.epoch_steps, fit.epochs) == \
        (origin, subset, full_pass, epoch_steps, epochs)


def test_fit_calls_leave_out_other_objects_fit():
    code = ("scaler = StandardScaler()\nscaler.fit(X_train)\nother = tf.keras.Sequential()\n"
            "other.fit(X_train[:10], y_train[:10], epochs=1)\nmodel.fit(X_train, y_train, epochs=5)")
    assert [f.code for f in source_scan.fit_calls([DATA_CELL, code], 4000)] == ["model.fit(X_train, y_train, epochs=5)"]


@pytest.mark.parametrize("code", [
    "history = model.fit(X_train, y_train, epochs=5)\nplt.plot(history.history['loss'])",
    "print(model.history.params['steps'], len(model.history.epoch), model.optimizer.iterations.numpy())",
    "model.optimizer.learning_rate.assign(0.001)",
    "pd.DataFrame(history.history).plot()",
])
def test_reading_the_training_record_is_not_a_write(code):
    assert source_scan.training_record_write([code]) is None


@pytest.mark.parametrize("code", [
    "model.history.epoch = list(range(5))", "history.params['steps'] = 125", "h.history['loss'].append(0.1)",
    "setattr(model.history, 'epoch', [0, 1, 2, 3, 4])", "model.optimizer.iterations.assign_add(100)",
    "model.history.params.update(steps=125)", "del model.history.history['val_loss']",
])
def test_writing_the_training_record_is_named(code):
    assert source_scan.training_record_write(["x = 1", code]) == code


def test_every_review_mistake_tells_the_student_that_a_ta_will_look():
    for mistake_id in review.REVIEW_MISTAKES:
        problems = messages.MISTAKES[mistake_id].problem
        assert "教員が確認します" in problems["ja"] and "An instructor will review" in problems["en"], mistake_id


def test_the_training_record_survives_the_clean_process_round_trip(tmp_path):
    """The same verdicts from the artifacts the clean process loads as from the live model."""
    from autograder.artifacts import load_artifacts, save_artifacts

    cases = {"history = model.fit(X_train, y_train, epochs=5)": None,
             "model.fit(X_train, y_train, epochs=4)\n" + _HIDE.format("model.history.epoch = list(range(5))"):
             "training.record_inconsistent",
             "model.fit(X_train, y_train, epochs=4)\n" + _HIDE.format("model.optimizer.iterations.assign(10)"):
             "training.optimizer_exceeds_source"}
    for i, (fit_code, expected) in enumerate(cases.items()):
        model, sources = practice10(fit_code)
        folder = tmp_path / str(i)
        folder.mkdir()
        save_artifacts({"model": model, **student_arrays()}, str(folder))
        loaded = load_artifacts(folder)["model"]
        assert run("check_training", {"model": model}, sources).mistake_id == expected
        assert run("check_training", {"model": loaded}, sources).mistake_id == expected


@pytest.mark.parametrize("manifest_record", [
    {"epoch": "not a list"}, {"epoch": [0, 1, 2, 3, 4], "steps": -2}, [1, 2], {"epoch": [True] * 5},
])
def test_a_malformed_training_record_fails_closed(manifest_record):
    from autograder.artifacts import training_history

    model, sources = practice10("model.fit(X_train, y_train, epochs=5)")
    model.history = training_history(manifest_record)
    assert run("check_training", {"model": model}, sources).mistake_id == "training.record_inconsistent"


# --- check_accuracy -------------------------------------------------------------------------------

class _Thresholds:
    def __init__(self, value: float) -> None:
        self.value, self.calls = value, []

    def __call__(self, source: str, preprocessing: str) -> float:
        self.calls.append((source, preprocessing))
        return self.value


@pytest.mark.parametrize(("threshold", "expected"), [(BEST_ACCURACY, None), (BEST_ACCURACY + 0.001,
                                                                              "accuracy.below_threshold")])
def test_accuracy_passes_at_the_threshold_and_fails_below(monkeypatch, lesson_ns, threshold, expected):
    marks = _Thresholds(threshold)
    monkeypatch.setattr(checks, "accuracy_threshold", marks)
    verdict = run("check_accuracy", lesson_ns)
    assert verdict.mistake_id == expected
    assert marks.calls == [("sample", "scaled")]
    if expected:
        assert verdict.fields == {"accuracy": BEST_ACCURACY, "threshold": threshold}


def test_accuracy_uses_the_threshold_of_the_notebooks_preprocessing(monkeypatch):
    marks = _Thresholds(0.5)
    monkeypatch.setattr(checks, "accuracy_threshold", marks)
    raw = build(scaled=False, ideal=False)
    _ideal_weights(raw)
    assert mistake("check_accuracy", solve(raw, scaled=False)) is None
    assert marks.calls == [("sample", "raw")]


def test_accuracy_is_measured_by_the_grader_not_taken_from_the_student(monkeypatch, lesson):
    monkeypatch.setattr(checks, "accuracy_threshold", _Thresholds(0.95))
    # the student's own numbers say 1.0; the model itself gets 27/30
    ns = solve(lesson, accuracy=1.0, eval_accuracy=1.0)
    assert mistake("check_accuracy", ns) == "accuracy.below_threshold"


@pytest.mark.parametrize(("bar", "graded", "self_checked"), [
    (0.5, 0.95, None),  # between the bar and the mark: the self-check passes, grading fails
    (BEST_ACCURACY + 0.001, 0.95, "accuracy.far_below"),  # below the bar: both fail
    (0.5, BEST_ACCURACY, None),  # above both
])
def test_the_accuracy_self_check_uses_its_bar_and_never_the_mark(monkeypatch, lesson_ns, bar, graded, self_checked):
    marks = _Thresholds(graded)
    monkeypatch.setattr(checks, "accuracy_threshold", marks)
    monkeypatch.setattr(checks, "self_check_bar", lambda source, preprocessing: bar)
    verdict = check("check_accuracy", lesson_ns, self_check=True)
    assert marks.calls == []  # the pass mark is not even looked up
    assert verdict.mistake_id == self_checked
    if self_checked:
        assert verdict.fields == {"accuracy": BEST_ACCURACY, "typical": 0.88792}
        assert "0.87" not in "".join(verdict.lines("en"))
    else:
        assert verdict.notes == ("accuracy.graded_against_pass_mark",)
    assert (check("check_accuracy", lesson_ns).mistake_id is None) == (graded <= BEST_ACCURACY)


def test_self_check_bar_is_derived_from_the_calibration():
    from autograder import thresholds

    for preprocessing in ("scaled", "raw"):
        mark = thresholds.accuracy_threshold("sample", preprocessing)
        mean = thresholds.typical_accuracy("sample", preprocessing)
        bar = thresholds.self_check_bar("sample", preprocessing)
        assert bar <= 2 * mark - mean < bar + 0.01 and bar < mark < mean
        assert thresholds.self_check_bar("full", preprocessing) == bar  # full reuses the sample's marks
    assert (thresholds.self_check_bar("sample", "scaled"), thresholds.self_check_bar("sample", "raw")) == (0.85, 0.75)


def test_accuracy_needs_the_distributed_test_data(lesson):
    ns = solve(lesson, X_test=lambda ns: ns["X_test"] * 2)
    assert mistake("check_accuracy", ns) == "input.test_data_changed"


def test_accuracy_reports_a_model_that_cannot_predict():
    class Broken(keras.Sequential):
        def predict(self, *args, **kwargs):
            raise tf.errors.InvalidArgumentError(None, None, "Graph execution error:\n\nDetected at node x\n"
                                                 "  File \"a.py\", line 1\nIn[0] and In[1] has different ndims\n\t [[{{node x}}]]")
    model = Broken([keras.layers.Dense(10)])
    verdict = run("check_accuracy", {"model": model, **student_arrays()})
    assert verdict.mistake_id == "input.model_failed"
    assert verdict.fields == {"error": "InvalidArgumentError: In[0] and In[1] has different ndims"}


# --- check_probability --------------------------------------------------------------------------------

@pytest.mark.parametrize("convert", [
    pytest.param(lambda p: scipy.special.softmax(p, axis=1), id="scipy"),
    pytest.param(lambda p: tf.nn.softmax(p), id="tf.nn"),
    pytest.param(lambda p: keras.activations.softmax(tf.constant(p)), id="keras.activations"),
    pytest.param(lambda p: tf.keras.activations.softmax(tf.constant(p), axis=-1), id="tf.keras.activations"),
    pytest.param(lambda p: np.exp(p) / np.exp(p).sum(axis=1, keepdims=True), id="by-hand"),
])
def test_probability_accepts_every_softmax(lesson_ns, convert):
    ns = {**lesson_ns, "probability": convert(lesson_ns["predictions"])}
    assert mistake("check_probability", ns) is None


@pytest.mark.parametrize(("convert", "expected"), [
    (lambda p: p, "probability.is_logits"),
    (lambda p: scipy.special.softmax(p, axis=0), "probability.wrong_axis"),
    (lambda p: scipy.special.softmax(p), "probability.no_axis"),
    (lambda p: p + 1.0, "probability.not_normalized"),
    (lambda p: scipy.special.softmax(p[::-1], axis=1), "probability.not_from_model"),
    (lambda p: scipy.special.softmax(p * 2, axis=1), "probability.not_from_model"),
])
def test_probability_mistakes(lesson_ns, convert, expected):
    ns = {**lesson_ns, "probability": convert(lesson_ns["predictions"])}
    assert mistake("check_probability", ns) == expected


def test_probability_shape(lesson_ns):
    verdict = run("check_probability", {**lesson_ns, "probability": lesson_ns["probability"][:5]})
    assert (verdict.mistake_id, verdict.fields) == ("probability.wrong_shape",
                                                     {"shape": "(5, 10)", "expected": "(30, 10)"})
    verdict = run("check_probability", {**lesson_ns, "probability": "softmax"})
    assert verdict.mistake_id == "probability.wrong_shape"


def test_probability_of_a_softmax_model_is_its_output(softmax_model):
    ns = solve(softmax_model, probability=lambda ns: ns["predictions"])
    assert mistake("check_probability", ns) is None
    ns = solve(softmax_model)  # the lesson's softmax on top of the model's softmax
    assert mistake("check_probability", ns) == "probability.double_softmax"


# --- check_first_label -------------------------------------------------------------------------------

@pytest.mark.parametrize("convert", [
    pytest.param(lambda v: v, id="np.int64"),
    pytest.param(int, id="int"),
    pytest.param(lambda v: tf.constant(v), id="tensor"),
    pytest.param(lambda v: np.int32(v), id="int32"),
])
def test_first_label_accepts_integer_types(lesson_ns, convert):
    ns = {**lesson_ns, "first_label": convert(lesson_ns["first_label"])}
    assert mistake("check_first_label", ns) is None


def test_first_label_is_recomputed_from_the_model(lesson_ns):
    expected = int(np.argmax(lesson_ns["predictions"][0]))
    wrong = (expected + 1) % 10
    verdict = run("check_first_label", {**lesson_ns, "first_label": wrong})
    assert (verdict.mistake_id, verdict.fields) == ("first_label.wrong", {"value": wrong, "expected": expected})


@pytest.mark.parametrize(("value", "expected"), [
    (lambda ns: np.argmax(ns["probability"]), "first_label.flat_argmax"),
    (lambda ns: ns["probability"][0].max(), "first_label.not_integer"),
    (lambda ns: float(np.argmax(ns["probability"][0])), "first_label.not_integer"),
    (lambda ns: ns["probability"][0], "first_label.not_integer"),
    (lambda ns: "7", "first_label.not_integer"),
])
def test_first_label_shape_and_type_mistakes_fail_in_the_self_check(lesson_ns, value, expected):
    ns = {**lesson_ns, "first_label": value(lesson_ns)}
    assert mistake("check_first_label", ns) == expected


def test_a_negative_first_label_is_simply_wrong(lesson_ns):
    ns = {**lesson_ns, "first_label": -1}
    assert mistake("check_first_label", ns) == "first_label.wrong"


def test_first_label_flat_argmax_shows_the_flat_position(lesson_ns):
    position = int(np.argmax(lesson_ns["probability"]))
    assert position >= 10  # the fake data's largest probability is not in row 0
    verdict = run("check_first_label", {**lesson_ns, "first_label": np.argmax(lesson_ns["probability"])})
    assert verdict.fields == {"value": position}


def test_first_label_from_another_row_is_named_from_the_source(lesson_ns):
    row1 = int(np.argmax(lesson_ns["probability"][1]))
    assert row1 != int(np.argmax(lesson_ns["probability"][0]))
    sources = replace("probability[0]", "probability[1]")
    verdict = run("check_first_label", {**lesson_ns, "first_label": np.int64(row1)}, sources)
    assert (verdict.mistake_id, verdict.fields) == ("first_label.wrong_row", {"row": 1})


def test_first_label_from_a_wrong_probability_points_at_probability(lesson_ns):
    probability = scipy.special.softmax(lesson_ns["predictions"][::-1], axis=1)
    assert np.argmax(probability[0]) != np.argmax(lesson_ns["probability"][0])
    ns = {**lesson_ns, "probability": probability, "first_label": np.argmax(probability[0])}
    assert mistake("check_first_label", ns) == "first_label.wrong_probability"


# --- check_argmax_axis -------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [
    pytest.param(lambda ns: np.argmax(ns["probability"], axis=1), id="axis=1"),
    pytest.param(lambda ns: np.argmax(ns["probability"], axis=-1), id="axis=-1"),
    pytest.param(lambda ns: ns["probability"].argmax(1), id="method"),
    pytest.param(lambda ns: np.argmax(ns["predictions"], axis=1), id="logits"),
    pytest.param(lambda ns: tf.argmax(ns["probability"], axis=1), id="tf.argmax"),
    pytest.param(lambda ns: list(np.argmax(ns["probability"], axis=1)), id="list"),
])
def test_argmax_accepts(lesson_ns, value):
    assert mistake("check_argmax_axis", {**lesson_ns, "y_predict": value(lesson_ns)}) is None


def test_argmax_axis0_gets_the_lessons_message(lesson_ns):
    ns = {**lesson_ns, "y_predict": np.argmax(lesson_ns["probability"], axis=0)}
    sources = replace("axis=1)\naccuracy", "axis=0)\naccuracy")
    assert mistake("check_argmax_axis", ns, sources) == "argmax.axis0"
    # the shape alone gives it away, whatever the source says
    assert mistake("check_argmax_axis", ns) == "argmax.axis0"
    problem, _ = messages.mistake_text("argmax.axis0", "ja")
    assert "ラベルごと" in problem and "画像ごと" in problem


def test_argmax_axis0_is_named_from_the_source_when_the_cell_crashed(lesson_ns):
    ns = {k: v for k, v in lesson_ns.items() if k not in {"y_predict", "accuracy"}}
    sources = replace("y_predict = np.argmax(probability, axis=1)", "y_predict = probability.argmax(0)")
    assert mistake("check_argmax_axis", ns, sources) == "argmax.axis0"
    sources = replace("y_predict = np.argmax(probability, axis=1)", "y_predict = tf.argmax(probability)")
    assert mistake("check_argmax_axis", ns, sources) == "argmax.tf_default_axis0"
    # without an axis-0 argmax in the source, it is simply missing
    assert mistake("check_argmax_axis", ns) == "input.missing"


@pytest.mark.parametrize(("value", "expected"), [
    (lambda ns: np.argmax(ns["probability"]), "argmax.wrong_shape"),
    (lambda ns: np.argmax(ns["probability"], axis=1)[:, None], "argmax.wrong_shape"),
    (lambda ns: np.argmin(ns["probability"], axis=1), "argmax.wrong_values"),
    (lambda ns: ns["y_test"], "argmax.wrong_values"),  # the true labels are not the model's predictions
])
def test_argmax_mistakes(lesson_ns, value, expected):
    assert mistake("check_argmax_axis", {**lesson_ns, "y_predict": value(lesson_ns)}) == expected


def test_argmax_of_a_wrong_probability_points_at_probability(lesson_ns):
    probability = scipy.special.softmax(lesson_ns["predictions"][::-1], axis=1)
    y_predict = np.argmax(probability, axis=1)
    mismatches = int(np.sum(y_predict != np.argmax(lesson_ns["predictions"], axis=1)))
    assert mismatches > 0
    verdict = run("check_argmax_axis", {**lesson_ns, "probability": probability, "y_predict": y_predict})
    assert (verdict.mistake_id, verdict.fields) == ("argmax.wrong_probability", {"mismatches": mismatches})


# --- check_accuracy_score ---------------------------------------------------------------------------

@pytest.mark.parametrize("value", [
    pytest.param(lambda ns: float(np.mean(ns["y_predict"] == ns["y_test"])), id="np.mean"),
    pytest.param(lambda ns: np.float32(np.mean(ns["y_predict"] == ns["y_test"])), id="float32"),
    pytest.param(lambda ns: tf.reduce_mean(tf.cast(ns["y_predict"] == ns["y_test"], tf.float32)), id="tensor"),
    pytest.param(lambda ns: ns["eval_accuracy"], id="eval_accuracy"),
])
def test_accuracy_score_accepts(lesson_ns, value):
    assert mistake("check_accuracy_score", {**lesson_ns, "accuracy": value(lesson_ns)}) is None


def test_accuracy_score_uses_sklearn_in_the_lesson(lesson_ns):
    from sklearn.metrics import accuracy_score

    ns = {**lesson_ns, "accuracy": accuracy_score(lesson_ns["y_test"], lesson_ns["y_predict"])}
    assert mistake("check_accuracy_score", ns) is None


def test_accuracy_on_the_training_set(lesson_ns, lesson):
    train = np.argmax(lesson.predict(lesson_ns["X_train"], verbose=0), axis=1)
    value = float(np.mean(train == lesson_ns["y_train"]))
    assert value != BEST_ACCURACY
    verdict = run("check_accuracy_score", {**lesson_ns, "accuracy": value})
    assert (verdict.mistake_id, verdict.fields) == ("accuracy_score.on_training_set", {"value": value})


def test_accuracy_from_wrong_predictions(lesson_ns):
    y_predict = np.argmin(lesson_ns["probability"], axis=1)
    value = float(np.mean(y_predict == lesson_ns["y_test"]))
    verdict = run("check_accuracy_score", {**lesson_ns, "y_predict": y_predict, "accuracy": value})
    assert (verdict.mistake_id, verdict.fields) == ("accuracy_score.wrong_predictions",
                                                     {"value": value, "expected": BEST_ACCURACY})


def test_hard_coded_accuracy_is_caught_even_when_it_is_right(lesson_ns):
    sources = replace("accuracy = accuracy_score(y_test, y_predict)", f"accuracy = {BEST_ACCURACY}")
    assert mistake("check_accuracy_score", {**lesson_ns, "accuracy": BEST_ACCURACY}, sources) == \
        "accuracy_score.hard_coded"
    sources = replace("accuracy = accuracy_score(y_test, y_predict)",
                      "accuracy = 0\naccuracy = accuracy_score(y_test, y_predict)")
    assert mistake("check_accuracy_score", lesson_ns, sources) is None


def test_accuracy_that_matches_nothing(lesson_ns):
    verdict = run("check_accuracy_score", {**lesson_ns, "accuracy": 0.5})
    assert (verdict.mistake_id, verdict.fields) == ("accuracy_score.mismatch",
                                                     {"value": 0.5, "expected": BEST_ACCURACY})


@pytest.mark.parametrize("value", [88.9, "0.9", None, np.array([0.9, 0.9]), True])
def test_accuracy_must_be_a_fraction(lesson_ns, value):
    assert mistake("check_accuracy_score", {**lesson_ns, "accuracy": value}) == \
        "accuracy_score.not_a_fraction"


def test_eval_accuracy(lesson_ns):
    swapped = {**lesson_ns, "eval_loss": lesson_ns["eval_accuracy"], "eval_accuracy": lesson_ns["eval_loss"]}
    assert mistake("check_accuracy_score", swapped) == "accuracy_score.evaluate_swapped"
    assert mistake("check_accuracy_score", {**lesson_ns, "eval_accuracy": 0.5}) == "accuracy_score.evaluate_mismatch"
    ns = {k: v for k, v in lesson_ns.items() if k != "eval_accuracy"}
    assert mistake("check_accuracy_score", ns) == "input.missing"


# --- Missing inputs, crashes, rendering ---------------------------------------------------------------

def test_missing_input_names_the_cell_that_should_define_it(lesson_ns):
    ns = {k: v for k, v in lesson_ns.items() if k not in {"predictions", "probability", "first_label"}}
    verdict = run("check_probability", ns)
    assert (verdict.mistake_id, verdict.fields) == ("input.missing", {"name": "probability", "cell": "practice11"})


def test_missing_input_downstream_of_a_crash_names_the_crashed_cell(lesson_ns):
    ns = {k: v for k, v in lesson_ns.items()
          if k not in {"predictions", "probability", "first_label", "y_predict", "accuracy", "eval_loss",
                       "eval_accuracy"}}
    verdict = run("check_argmax_axis", ns)
    assert (verdict.mistake_id, verdict.fields) == (
        "input.missing_upstream",
        {"name": "y_predict", "cell": "practice12", "upstream": "probability", "upstream_cell": "practice11"})
    assert "練習11" in verdict.lines("ja")[0]
    assert "NameError" not in "\n".join(verdict.lines("ja"))


def test_a_crash_inside_a_student_object_is_a_verdict(lesson_ns):
    class Weird:
        def __array__(self, *args, **kwargs):
            raise RuntimeError("boom\nsecond line")

    verdict = run("check_first_label", {**lesson_ns, "first_label": Weird()})
    assert verdict.mistake_id == "first_label.not_integer"
    verdict = run("check_argmax_axis", {**lesson_ns, "y_predict": Weird()})
    assert (verdict.mistake_id, verdict.fields) == ("input.student_error", {"error": "RuntimeError: boom"})


def test_verify_raises_a_readable_failure_without_traceback(lesson_ns, capsys, monkeypatch):
    import autograder.cells

    monkeypatch.setattr(autograder.cells, "Context",
                        lambda namespace, sources, **kwargs: Context(namespace, sources, loader=lambda: DATA, **kwargs))
    ns = {**lesson_ns, "y_predict": np.argmax(lesson_ns["probability"], axis=0), "In": SOURCES}
    with pytest.raises(CheckFailed) as failure:
        verify("check_argmax_axis", ns)
    expected = Verdict("check_argmax_axis", False, "argmax.axis0").lines()
    assert failure.value._render_traceback_() == expected
    assert isinstance(failure.value, AssertionError)
    verify("check_argmax_axis", {**lesson_ns, "In": SOURCES}, hidden=True)
    assert Verdict("check_argmax_axis", True).lines()[0] in capsys.readouterr().out

