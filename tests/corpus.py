"""The corpus of submissions with the verdict every check cell must reach.

Each case is a set of answers for the three solution cells plus the expected mistake id of
every check (``None`` = the check passes) and the notes a passing check attaches. The whole
corpus is graded once per test session through real nbgrader (see ``conftest.graded_class``),
and ``test_corpus`` compares every cell with these expectations.

Cases are written as small edits of the instructor's solution (``variant``), so the corpus
follows the source notebook; an edit that no longer applies fails loudly. All data is the
offline sample (4,000 training / 1,000 test digits, scaled by the release's optional cell), the
seed is fixed by the notebook, and no case's test accuracy sits near the pass mark: the correct
variants reach about 0.89 and the failing ones stay far below (see the comments).

Where a verdict is debatable, the comment next to it says why the grader decides as it does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from autograder.course import Answers
from autograder.sample_class import sample_class, variant
from autograder.spec import CHECK_POINTS

# The submission that is the instructor's source notebook itself, not a filled-in release.
SOURCE_NOTEBOOK = "source_notebook"


@dataclass(frozen=True)
class Case:
    name: str
    answers: Answers
    expected: dict[str, str | None] = field(default_factory=dict)
    notes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # check -> notes when passing

    def expected_points(self) -> float:
        return sum(p for c, p in CHECK_POINTS.items() if self.expected[c] is None)

    @property
    def correct(self) -> bool:
        return all(m is None for m in self.expected.values())


def expect(**mistakes: str) -> dict[str, str | None]:
    """Expected verdicts: the named checks fail with the given mistake ids, all others pass."""
    unknown = set(mistakes) - set(CHECK_POINTS)
    if unknown:
        raise KeyError(f"unknown checks {sorted(unknown)}")
    return {c: mistakes.get(c) for c in CHECK_POINTS}


def edits(base: Answers, *changes: tuple[str, str, str]) -> dict[str, str]:
    """``base`` with several ``(cell, old, new)`` replacements applied in order."""
    answers = dict(base)
    for cell, old, new in changes:
        answers = variant(answers, cell, old, new)
    return answers


_SAMPLE = sample_class()
SOL = _SAMPLE["s01_correct"]

P10, P11, P12 = "practice10", "practice11", "practice12"
MODEL = "tf.keras.layers.Dense(10)"
LOSS = "loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)"
COMPILE = "model.compile(optimizer='adam', loss=loss_fn, metrics=['accuracy'])"
FIT = "model.fit(X_train, y_train, epochs=5)"
SOFTMAX = "probability = softmax(predictions, axis=1)"
FIRST = "first_label = np.argmax(probability[0])"
ARGMAX = "y_predict = np.argmax(probability, axis=1)"
SCORE = "accuracy = accuracy_score(y_test, y_predict)"
EVALUATE = "eval_loss, eval_accuracy = model.evaluate(X_test, y_test, verbose=2)"

# A model whose output layer is softmax, with a loss that expects probabilities: equivalent to
# the lesson's logits + from_logits=True, so it is accepted (check_loss adds a note).
_SOFTMAX_OUTPUT = edits(
    SOL,
    (P10, MODEL, "tf.keras.layers.Dense(10, activation='softmax')"),
    (P10, LOSS, "loss_fn = 'sparse_categorical_crossentropy'"),
)
_SOFTMAX_NOTE = {"check_loss": ("loss.softmax_equivalent",)}

CORRECT: list[Case] = [
    Case(SOURCE_NOTEBOOK, {}, expect()),
    Case("ok_lesson_solution", SOL, expect()),
    Case("ok_tf_nn_softmax", variant(SOL, P11, SOFTMAX, "probability = tf.nn.softmax(predictions)"),
         expect()),
    Case("ok_keras_softmax_argmax_method", edits(
        SOL,
        (P11, SOFTMAX, "probability = tf.keras.activations.softmax(tf.constant(predictions))"),
        (P11, FIRST, "first_label = int(np.asarray(probability[0]).argmax())"),
        (P12, ARGMAX, "y_predict = np.asarray(probability).argmax(1)"),
        (P12, SCORE, "accuracy = np.mean(y_predict == y_test)"),
    ), expect()),
    # Argmax of the logits gives the same labels as argmax of the probabilities.
    Case("ok_axis_minus1_on_logits", edits(
        SOL,
        (P12, ARGMAX, "y_predict = np.argmax(predictions, axis=-1)"),
    ), expect()),
    Case("ok_softmax_output_string_loss", variant(
        _SOFTMAX_OUTPUT, P11, SOFTMAX, "probability = predictions  # the model outputs probabilities"),
        expect(), _SOFTMAX_NOTE),
    Case("ok_input_and_flatten", variant(
        SOL, P10, "tf.keras.layers.Dense(10)",
        "tf.keras.Input(shape=(784,)),\n    tf.keras.layers.Flatten(),\n    tf.keras.layers.Dense(10)"),
        expect()),
    Case("ok_adam_object_lr001", variant(
        SOL, P10, "optimizer='adam'", "optimizer=tf.keras.optimizers.Adam(learning_rate=0.01)"),
        expect()),
    Case("ok_epochs10_batch64", variant(SOL, P10, FIT, "model.fit(X_train, y_train, epochs=10, batch_size=64)"),
         expect()),
    Case("ok_add_style_metric_object", edits(
        SOL,
        (P10, "model = tf.keras.Sequential([\n    tf.keras.layers.Dense(10)\n])",
         "model = tf.keras.Sequential()\nmodel.add(tf.keras.layers.Dense(10, activation='linear'))"),
        (P10, LOSS, "loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(True)"),
        (P10, "metrics=['accuracy']", "metrics=[tf.keras.metrics.SparseCategoricalAccuracy()]"),
    ), expect()),
    Case("ok_tf_ops_dict_evaluate", edits(
        SOL,
        (P12, ARGMAX, "y_predict = tf.argmax(probability, axis=1)"),
        (P12, SCORE, "accuracy = tf.reduce_mean(tf.cast(y_predict == y_test, tf.float32))"),
        (P12, EVALUATE, "eval_accuracy = model.evaluate(X_test, y_test, verbose=0, return_dict=True)['accuracy']"),
    ), expect()),
    Case("ok_manual_softmax_sequential_layers", edits(
        SOL,
        (P11, SOFTMAX, "e = np.exp(predictions - predictions.max(axis=1, keepdims=True))\n"
                       "probability = e / e.sum(axis=1, keepdims=True)"),
        # `accuracy = 0` first and the real computation after it is not a hard-coded accuracy
        (P12, SCORE, "accuracy = 0\naccuracy = accuracy_score(y_test, y_predict)"),
    ), expect()),
]

MISTAKES: list[Case] = [
    # --- Practice 10 ---------------------------------------------------------------------
    Case("m_dense1", _SAMPLE["s04_dense1"], expect(
        check_architecture="architecture.wrong_units",
        # fit fails at once: a label of 9 is out of range for a single output
        check_training="training.not_fitted",
        check_accuracy="architecture.wrong_units",
        check_probability="probability.wrong_shape",
        # evaluate fails the same way, so `eval_accuracy` is never defined
        check_accuracy_score="input.missing")),
    Case("m_hidden_layer", _SAMPLE["s07_hidden_layer"], expect(
        check_architecture="architecture.extra_layers")),
    # A relu output is not logits: units stuck at 0 stop learning, and the test accuracy
    # drops to about 0.72. softmax(relu(z)) is what this model gives, so Practice 11 and 12
    # are right for it and pass.
    Case("m_relu_output", variant(SOL, P10, MODEL, "tf.keras.layers.Dense(10, activation='relu')"), expect(
        check_architecture="architecture.nonlinear_activation",
        check_accuracy="accuracy.below_threshold")),
    # Softmax output and from_logits=True: softmax twice. Both halves fail, each cell naming its
    # own fix (architecture: drop the softmax; loss: or use from_logits=False). On this data
    # the doubled softmax still trains to the usual accuracy (0.889), and the grader judges
    # accuracy by measurement, so check_accuracy passes. Practice 11 uses `predictions`
    # directly, which is right for a softmax model.
    Case("m_softmax_output_from_logits_true", edits(
        SOL,
        (P10, MODEL, "tf.keras.layers.Dense(10, activation='softmax')"),
        (P11, SOFTMAX, "probability = predictions"),
    ), expect(
        check_architecture="architecture.softmax_with_logits_loss",
        check_loss="loss.probabilities_need_no_logits")),
    Case("m_from_logits_false", _SAMPLE["s03_from_logits_false"], expect(
        check_loss="loss.logits_need_from_logits",
        check_accuracy="accuracy.below_threshold")),
    # fit raises at once: a one-hot loss on integer labels. evaluate raises the same way, so
    # `eval_accuracy` is never defined. The model stays untrained (accuracy about 0.06), while
    # Practice 11 and y_predict are right for it.
    # The model starts with an Input layer, so its weights exist before fit. Without one,
    # Keras 3 creates the weights inside the failing fit and leaves them unusable: predict
    # then fails in the notebook and in the grader alike (check_accuracy reports
    # input.model_failed; see test_checks), and the model cannot be saved for the
    # clean-process re-check, which would overrule every cell with "model unreadable".
    Case("m_categorical_crossentropy", edits(
        SOL,
        (P10, MODEL, "tf.keras.Input(shape=(784,)),\n    tf.keras.layers.Dense(10)"),
        (P10, LOSS, "loss_fn = tf.keras.losses.CategoricalCrossentropy(from_logits=True)"),
    ), expect(
        check_loss="loss.categorical_with_int_labels",
        check_training="training.not_fitted",
        check_accuracy="accuracy.below_threshold",
        check_accuracy_score="input.missing")),
    Case("m_not_compiled", variant(SOL, P10, COMPILE + "\n", ""), expect(
        check_loss="loss.not_compiled",
        check_training="training.not_compiled",
        check_accuracy="accuracy.below_threshold",
        check_accuracy_score="input.missing")),
    Case("m_not_fitted", _SAMPLE["s06_not_fitted"], expect(
        check_training="training.not_fitted",
        check_accuracy="accuracy.below_threshold")),
    Case("m_sgd", variant(SOL, P10, "optimizer='adam'", "optimizer='sgd'"), expect(
        check_training="training.wrong_optimizer",
        check_accuracy="accuracy.below_threshold")),
    # Without an accuracy metric, evaluate returns the loss alone and the unpacking fails.
    Case("m_no_accuracy_metric", variant(SOL, P10, ", metrics=['accuracy']", ""), expect(
        check_training="training.missing_accuracy_metric",
        check_accuracy_score="input.missing")),
    Case("m_epochs1", variant(SOL, P10, FIT, "model.fit(X_train, y_train, epochs=1)"), expect(
        check_training="training.too_few_epochs",
        check_accuracy="accuracy.below_threshold")),
    Case("m_fit_on_500_rows", variant(SOL, P10, FIT, "model.fit(X_train[:500], y_train[:500], epochs=5)"), expect(
        check_training="training.partial_training_set",
        check_accuracy="accuracy.below_threshold")),
    # --- Practice 11 ---------------------------------------------------------------------
    Case("m_no_softmax", _SAMPLE["s05_no_softmax"], expect(
        check_probability="probability.is_logits")),
    # Softmax over the whole array keeps the order within each row, so first_label and
    # y_predict are still right: only the probabilities are wrong.
    Case("m_softmax_without_axis", variant(SOL, P11, SOFTMAX, "probability = softmax(predictions)"), expect(
        check_probability="probability.no_axis")),
    # Softmax down the columns changes which label is largest in 85 of the rows, so the
    # labels built from it are wrong too; their messages point back at `probability` as the
    # cause. Row 0 happens to keep its largest label, so first_label is right.
    Case("m_softmax_axis0", variant(SOL, P11, SOFTMAX, "probability = softmax(predictions, axis=0)"), expect(
        check_probability="probability.wrong_axis",
        check_argmax_axis="argmax.wrong_probability",
        check_accuracy_score="accuracy_score.wrong_predictions")),
    # The lesson's softmax on a model that already outputs probabilities.
    Case("m_double_softmax", _SOFTMAX_OUTPUT, expect(
        check_probability="probability.double_softmax"), _SOFTMAX_NOTE),
    Case("m_predict_on_training_set", variant(
        SOL, P11, "predictions = model.predict(X_test)", "predictions = model.predict(X_train)"), expect(
        check_probability="probability.wrong_shape",
        # first_label is the prediction for the first *training* image; it happens to be the
        # same class as for the first test image, and a value check cannot tell, so it passes.
        # np.argmax gives 4,000 labels for 1,000 test images, so accuracy_score raises
        check_argmax_axis="argmax.wrong_shape",
        check_accuracy_score="input.missing")),
    Case("m_first_label_flat_argmax", variant(SOL, P11, FIRST, "first_label = np.argmax(probability)"), expect(
        check_first_label="first_label.flat_argmax")),
    Case("m_first_label_second_row", variant(SOL, P11, FIRST, "first_label = np.argmax(probability[1])"), expect(
        check_first_label="first_label.wrong_row")),
    # A typo stops Practice 11 before anything is defined: every later check says which
    # name is missing and, for Practice 12, that the cause is Practice 11.
    Case("m_practice11_crash", variant(
        SOL, P11, "predictions = model.predict(X_test)", "predictions = model.predict(X_tset)"), expect(
        check_probability="input.missing",
        check_first_label="input.missing",
        check_argmax_axis="input.missing_upstream",
        check_accuracy_score="input.missing_upstream")),
    # --- Practice 12 ---------------------------------------------------------------------
    Case("m_argmax_axis0", _SAMPLE["s02_argmax_axis0"], expect(
        check_argmax_axis="argmax.axis0",
        # accuracy_score(y_test, y_predict) raises on 10 predictions, so `accuracy` is never defined
        check_accuracy_score="input.missing")),
    # tf.argmax's default axis is 0; the message says so instead of quoting an `axis=0` the
    # student never wrote.
    Case("m_tf_argmax_default_axis", variant(SOL, P12, ARGMAX, "y_predict = tf.argmax(probability)"), expect(
        check_argmax_axis="argmax.tf_default_axis0",
        check_accuracy_score="input.missing")),
    # argmin instead of argmax: the labels are wrong, and the accuracy computed from them too.
    Case("m_argmin_predictions", variant(SOL, P12, ARGMAX, "y_predict = np.argmin(probability, axis=1)"), expect(
        check_argmax_axis="argmax.wrong_values",
        check_accuracy_score="accuracy_score.wrong_predictions")),
    Case("m_accuracy_on_training_set", variant(
        SOL, P12, SCORE,
        "accuracy = accuracy_score(y_train, np.argmax(model.predict(X_train), axis=1))"), expect(
        check_accuracy_score="accuracy_score.on_training_set")),
    Case("m_accuracy_hard_coded", variant(SOL, P12, SCORE, "accuracy = 0.89"), expect(
        check_accuracy_score="accuracy_score.hard_coded")),
    Case("m_eval_loss_accuracy_swapped", variant(
        SOL, P12, EVALUATE, "eval_accuracy, eval_loss = model.evaluate(X_test, y_test, verbose=2)"), expect(
        check_accuracy_score="accuracy_score.evaluate_swapped")),
    # Two independent slips in one submission: each cell reports its own.
    Case("m_float_label_and_percent", edits(
        SOL,
        (P11, FIRST, "first_label = probability[0].max()"),
        (P12, SCORE, "accuracy = accuracy_score(y_test, y_predict) * 100"),
    ), expect(
        check_first_label="first_label.not_integer",
        check_accuracy_score="accuracy_score.not_a_fraction")),
    # --- Nothing written -----------------------------------------------------------------
    # The untouched release: Practice 10 is the first missing link for every later check.
    Case("s08_blank", _SAMPLE["s08_blank"], {  # name used by test_assignment
        "check_architecture": "input.missing", "check_loss": "input.missing",
        "check_training": "input.missing", "check_accuracy": "input.missing",
        # check_probability reads `model` first, so it names Practice 10's `model` directly
        "check_probability": "input.missing", "check_first_label": "input.missing_upstream",
        "check_argmax_axis": "input.missing_upstream", "check_accuracy_score": "input.missing_upstream",
    }),
]

CASES: list[Case] = CORRECT + MISTAKES
