"""The eight autograder checks, each written once.

The same function serves the student's visible self-check, the hidden test and the
clean-process verdict, and runs in full in all three: a self-check that skipped the checks
grading makes would let a student submit mistakes (``from_logits``, a missing softmax, an
untrained model) it could have named. Only check_accuracy differs in the self-check
(``ctx.self_check``): it compares with a lower bar than the calibrated pass mark, so that the
mark itself is not something to tune to. A check body raises
:class:`~autograder.verdict.Mistake` at the first problem it finds; :func:`run_check` turns the
outcome into a :class:`~autograder.verdict.Verdict`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from . import crashes, model_facts, saved_model, source_scan, training_audit
from .artifacts import Unreadable
from .context import Context
from .spec import CHECK_POINTS
from .thresholds import accuracy_threshold, self_check_bar, typical_accuracy
from .verdict import Mistake, Verdict, error_text

Notes = tuple[str, ...]


def _model(ctx: Context) -> keras.Model:
    model = ctx.get("model")
    if not isinstance(model, keras.Model):
        raise Mistake("architecture.not_a_model", type=type(model).__name__)
    return model


def _readable_compile(model: keras.Model, *roles: str) -> None:
    """A compile component the clean process could not read is reported as such, never judged."""
    for role in roles:
        detail = saved_model.compile_problem(model, role)
        if detail:
            raise Mistake("model.compile_component_unreadable", role=role, detail=detail)


def _scores(ctx: Context) -> tuple[np.ndarray, Notes]:
    """Per-image class scores to take the argmax of: the model's outputs on the grader's ``X_test``.

    When the clean process could not rebuild the model (a component that is code, a refused
    size), the checks that only compare the student's own arrays with each other and with the
    grader's labels are still decided: the student's ``probability`` stands in, once it is
    verified to be a probability table of the grader's test set (one finite, non-negative row
    summing to 1 per test image). The verdict says so in a note.
    """
    if not isinstance(ctx.namespace.get("model"), Unreadable):
        return ctx.reference.outputs(_model(ctx)), ()
    n = len(ctx.reference.y_test)
    probability = _student_array(ctx, "probability", (n, 10))
    if (probability is None or not np.all(np.isfinite(probability)) or probability.min() < -1e-6
            or not np.allclose(probability.sum(axis=1), 1.0, atol=1e-3)):
        _model(ctx)  # raises the model's own reason
    return probability, ("verdict.without_model",)


def _softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, in the grader's own code so that no student patch can reach it."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


def _number(value: Any) -> float | None:
    """``value`` as a float if it is a real scalar (Python, NumPy or 0-d tensor), else ``None``."""
    try:
        arr = np.asarray(value)
    except Exception:  # noqa: BLE001
        return None
    if arr.shape != () or arr.dtype.kind not in "iuf" or arr.dtype == bool:
        return None
    return float(arr)


def _short(value: Any) -> str:
    """A short text of a student's value for a message: ``0.96`` rather than ``np.float32(0.96)``."""
    try:
        arr = np.asarray(value)
        if arr.shape == () and arr.dtype.kind in "biuf":
            value = arr.item()
    except Exception:  # noqa: BLE001 - any odd object is shown by its repr
        pass
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _copy_layer(layer: keras.layers.Layer) -> keras.layers.Layer:
    """A fresh layer with ``layer``'s settings, its activation passed as the object itself.

    Keras writes a function such as ``tf.nn.softmax`` into a config by a bare name it cannot
    read back, so a plain ``clone_model`` of the TF 2 tutorial's model fails although every
    part of it is standard.
    """
    config = layer.get_config()
    if callable(getattr(layer, "activation", None)):
        config["activation"] = layer.activation
    return layer.__class__.from_config(config)


def _built(model: keras.Model) -> keras.Model:
    """A model whose layers have weights to inspect.

    A model that was compiled but never fitted has no weights yet. Its architecture can still
    be right, so it is judged on a clone built for 784 inputs; the student's model is untouched.
    """
    if model.built and model.weights:
        return model
    try:
        probe = keras.models.clone_model(model, clone_function=_copy_layer)
        probe.build((None, 784))
    except Exception:  # noqa: BLE001 - a model that cannot even be built
        raise Mistake("architecture.not_built") from None
    return probe


def _integer(value: Any) -> int | None:
    """``value`` as an int if it is an integer scalar (Python, NumPy or 0-d tensor), else ``None``.

    A class label is an integer: ``np.argmax`` and ``tf.argmax`` return one. A float such as
    ``probability[0].max()`` is a probability, not a class, even when it happens to be whole.
    """
    try:
        arr = np.asarray(value)
    except Exception:  # noqa: BLE001
        return None
    if arr.shape != () or arr.dtype.kind not in "iu":
        return None
    return int(arr)


def _same(a: float, b: float) -> bool:
    """Two accuracies are the same number (allowing float32 rounding, not one image's worth)."""
    return math.isclose(a, b, abs_tol=1e-5)


def _student_array(ctx: Context, name: str, shape: tuple[int, ...]) -> np.ndarray | None:
    """The student's ``name`` as a float array of ``shape``, or ``None``; used only to explain."""
    try:
        arr = np.asarray(ctx.namespace.get(name), dtype=np.float64)
    except Exception:  # noqa: BLE001
        return None
    return arr if arr.shape == shape else None


def check_architecture(ctx: Context) -> Notes:
    """One Dense layer, 10 units, 784 inputs, logits out.

    A softmax output is accepted only with a loss that expects probabilities
    (``from_logits=False``; ``check_loss`` says so in a note). With ``from_logits=True`` both
    this check and ``check_loss`` fail: the architecture is not the lesson's and the pair
    computes softmax twice, and each cell's message names its own half of the fix.
    """
    model = _model(ctx)
    if not model_facts.flat_layers(model):  # an empty Sequential cannot be built at all
        raise Mistake("architecture.no_weighted_layer")
    built = _built(model)
    arch = model_facts.architecture(built)
    if not arch.weighted:
        raise Mistake("architecture.no_weighted_layer")
    last = arch.weighted[-1]
    if not isinstance(last, keras.layers.Dense):
        raise Mistake("architecture.not_dense", layer=type(last).__name__)
    if last.units != 10:
        raise Mistake("architecture.wrong_units", units=last.units)
    if len(arch.weighted) > 1:
        raise Mistake("architecture.extra_layers", count=len(arch.weighted))
    if last.kernel.shape[0] != 784:
        raise Mistake("architecture.wrong_inputs", inputs=last.kernel.shape[0])
    if arch.unexpected:
        raise Mistake("architecture.unexpected_layer", layer=", ".join(arch.unexpected))
    shapes = model_facts.io_shapes(built)
    if shapes is not None and shapes[0] != (784,):  # e.g. Flatten(input_shape=(28, 28)) on flat rows
        raise Mistake("architecture.wrong_input_shape", shape=shapes[0])
    if shapes is not None and shapes[1] != (10,):  # e.g. a Reshape that leaves an extra axis
        raise Mistake("architecture.wrong_output_shape", shape=shapes[1])
    if arch.output_activation == "softmax":
        if model_facts.compile_config(model) is not None and model_facts.loss_facts(model.loss).from_logits:
            raise Mistake("architecture.softmax_with_logits_loss")
    elif arch.output_activation != "linear":
        raise Mistake("architecture.nonlinear_activation", activation=arch.output_activation)
    return ()


def check_loss(ctx: Context) -> Notes:
    """SparseCategoricalCrossentropy (object, function or string), ``from_logits`` matching the output.

    Only the presence of ``loss_fn`` is required; what counts is the loss the model was
    compiled with, read from the model itself.
    """
    model = _model(ctx)
    if not ctx.has("loss_fn"):
        raise Mistake("loss.loss_fn_missing")
    _readable_compile(model, "optimizer", "loss")
    if model_facts.compile_config(model) is None:
        raise Mistake("loss.not_compiled")
    loss = model_facts.loss_facts(model.loss)
    if loss.kind == "categorical":
        raise Mistake("loss.categorical_with_int_labels")
    if loss.kind != "sparse":
        raise Mistake("loss.wrong_loss", loss=loss.name)
    if model_facts.architecture(_built(model)).outputs_probabilities:
        if loss.from_logits:
            raise Mistake("loss.probabilities_need_no_logits")
        return ("loss.softmax_equivalent",)
    if not loss.from_logits:
        raise Mistake("loss.logits_need_from_logits")
    return ()


def check_training(ctx: Context) -> Notes:
    """Compiled with Adam and an accuracy metric, trained at least 5 epochs on all of ``X_train``.

    The training is counted by :mod:`autograder.training_audit` from the optimizer's step
    counter, the notebook's ``fit`` calls and the grader's own training-set size; the model's
    ``history`` (which student code can rewrite) is only cross-checked against them. Epochs are
    passes over the whole set, summed over every ``fit`` since compile (5 + 5 is 10). Rows held
    out by ``validation_split`` (or a ``train_test_split`` of X_train) count as used: validating
    is good practice, not a shortcut, and check_accuracy still measures the result. A callback
    that stops before 5 epochs leaves the model trained too little, and the message says so.
    """
    model = _model(ctx)
    _readable_compile(model, "optimizer")
    config = model_facts.compile_config(model)
    if config is None:
        raise Mistake("training.not_compiled")
    training = model_facts.training(model)
    record = training.record
    if training.iterations == 0 or (record.epochs_run == 0 and record.problem is None):
        raise Mistake("training.not_fitted")  # never fitted, or fit crashed at once
    optimizer = model_facts.optimizer_name(model, config)
    if optimizer.lower() != "adam":
        raise Mistake("training.wrong_optimizer", optimizer=optimizer)
    if not model_facts.has_accuracy_metric(config):
        _readable_compile(model, "metrics")
        raise Mistake("training.missing_accuracy_metric")
    training_audit.epochs_trained(training, source_scan.fit_calls(ctx.sources, len(ctx.data.X_train)),
                                  source_scan.training_record_write(ctx.sources))
    return ()


def check_accuracy(ctx: Context) -> Notes:
    """The grader's own evaluation of ``model`` on its copy of the test data, against the calibrated mark.

    The self-check compares with :func:`~autograder.thresholds.self_check_bar` instead, far
    below the mark, and passes with a note that grading uses the mark: whether an accuracy
    reaches the mark is never visible before grading.
    """
    model = _model(ctx)
    ref = ctx.reference
    outputs = ref.outputs(model)
    if outputs.ndim != 2 or outputs.shape[1] != 10:
        raise Mistake("architecture.wrong_units", units=outputs.shape[-1] if outputs.ndim else 0)
    accuracy = float(np.mean(outputs.argmax(axis=1) == ref.y_test))
    if ctx.self_check:
        if accuracy < self_check_bar(ref.data.source, ref.preprocessing):
            raise Mistake("accuracy.far_below", accuracy=accuracy,
                          typical=typical_accuracy(ref.data.source, ref.preprocessing))
        return ("accuracy.graded_against_pass_mark",)
    threshold = accuracy_threshold(ref.data.source, ref.preprocessing)
    if accuracy < threshold:
        raise Mistake("accuracy.below_threshold", accuracy=accuracy, threshold=threshold)
    return ()


def check_probability(ctx: Context) -> Notes:
    """``probability`` is the row-wise softmax of the model's logits (or the model's own probabilities)."""
    model = _model(ctx)
    ref = ctx.reference
    expected_shape = (len(ref.y_test), 10)
    value = ctx.get("probability")
    try:
        probability = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise Mistake("probability.wrong_shape", shape=type(value).__name__,
                      expected=expected_shape) from None
    if probability.shape != expected_shape:
        raise Mistake("probability.wrong_shape", shape=probability.shape, expected=expected_shape)
    outputs = ref.outputs(model).astype(np.float64)
    if not np.allclose(probability.sum(axis=1), 1.0, atol=1e-3):
        if np.allclose(probability, outputs, atol=1e-4):
            raise Mistake("probability.is_logits")
        if np.allclose(probability.sum(axis=0), 1.0, atol=1e-3):
            raise Mistake("probability.wrong_axis")
        if math.isclose(float(probability.sum()), 1.0, abs_tol=1e-3):
            raise Mistake("probability.no_axis")
        raise Mistake("probability.not_normalized")
    # A softmax output layer already gives the probabilities; otherwise they are softmax(logits).
    outputs_probabilities = model_facts.architecture(model).outputs_probabilities
    expected = outputs if outputs_probabilities else _softmax(outputs)
    if np.allclose(probability, expected, atol=1e-4):
        return ()
    if outputs_probabilities and np.allclose(probability, _softmax(outputs), atol=1e-4):
        raise Mistake("probability.double_softmax")
    raise Mistake("probability.not_from_model")


def check_first_label(ctx: Context) -> Notes:
    """``first_label`` is the integer class with the highest probability for test image 0."""
    value = ctx.get("first_label")
    label = _integer(value)
    if label is None:
        raise Mistake("first_label.not_integer", value=_short(value))
    if label >= 10:  # a class is 0-9; larger numbers are positions in the flattened array
        raise Mistake("first_label.flat_argmax", value=label)
    ref = ctx.reference
    scores, notes = _scores(ctx)
    expected = int(scores[0].argmax())
    if label == expected:
        return notes
    tree = source_scan.cell_assigning(ctx.sources, "first_label")
    row = source_scan.row_index(tree, "first_label", ("probability", "predictions"))
    if row not in (None, 0):
        raise Mistake("first_label.wrong_row", row=row)
    probability = _student_array(ctx, "probability", (len(ref.y_test), 10))
    if probability is not None and int(probability[0].argmax()) == label:
        raise Mistake("first_label.wrong_probability", value=label, expected=expected)
    raise Mistake("first_label.wrong", value=label, expected=expected)


def check_argmax_axis(ctx: Context) -> Notes:
    """``y_predict`` is the per-image argmax; the cell's source names an axis-0 argmax even after a crash."""
    axis0 = source_scan.argmax_axis0(source_scan.cell_assigning(ctx.sources, "y_predict"))
    if axis0 and not ctx.has("y_predict"):
        raise Mistake(axis0)  # the cell crashed, but its source tells what went wrong
    y_predict = np.asarray(ctx.get("y_predict"))
    n = len(ctx.reference.y_test)
    if y_predict.shape != (n,):
        # Ten labels are what an axis-0 argmax of the (n, 10) table gives, unless the table
        # itself has ten rows (only ten images were predicted): then the rows are the mistake.
        if axis0 or (y_predict.shape == (10,) and _student_array(ctx, "probability", (10, 10)) is None):
            raise Mistake(axis0 or "argmax.axis0")
        raise Mistake("argmax.wrong_shape", shape=y_predict.shape, expected=(n,))
    scores, notes = _scores(ctx)
    expected = scores.argmax(axis=1)
    tolerance = n // 1000  # float ties between softmax and logits may flip a rare image
    mismatches = int(np.sum(y_predict != expected))
    if mismatches <= tolerance:
        return notes
    if axis0:
        raise Mistake(axis0)
    probability = _student_array(ctx, "probability", (n, 10))
    if probability is not None and int(np.sum(y_predict != probability.argmax(axis=1))) <= tolerance:
        raise Mistake("argmax.wrong_probability", mismatches=mismatches)
    raise Mistake("argmax.wrong_values", mismatches=mismatches)


def check_accuracy_score(ctx: Context) -> Notes:
    """``accuracy`` is the test accuracy of the model's own predictions; ``eval_accuracy`` agrees.

    The grader recomputes everything: the accuracy of the model's argmax predictions on its
    copy of the test set, ``accuracy_score(y_test, y_predict)`` with its own ``y_test``, and the
    training-set accuracy. The student's numbers are only compared with these, and the
    comparisons tell apart the usual ways of getting a wrong number.
    """
    value = ctx.get("accuracy")
    accuracy = _number(value)
    if accuracy is None or not 0.0 <= accuracy <= 1.0:
        raise Mistake("accuracy_score.not_a_fraction", value=_short(value))
    if source_scan.assigns_constant(source_scan.cell_assigning(ctx.sources, "accuracy"), "accuracy"):
        raise Mistake("accuracy_score.hard_coded")
    ref = ctx.reference
    scores, notes = _scores(ctx)
    expected = float(np.mean(scores.argmax(axis=1) == ref.y_test))
    if not _same(accuracy, expected):
        y_predict = _student_array(ctx, "y_predict", ref.y_test.shape)
        if y_predict is not None and _same(accuracy, float(np.mean(y_predict == ref.y_test))):
            raise Mistake("accuracy_score.wrong_predictions", value=accuracy, expected=expected)
        if notes:  # no model to compare the training set with
            raise Mistake("accuracy_score.mismatch", value=accuracy, expected=expected)
        model = _model(ctx)
        train_pred = np.asarray(model.predict(ref.X_train, verbose=0)).argmax(axis=1)
        if _same(accuracy, float(np.mean(train_pred == ref.y_train))):
            raise Mistake("accuracy_score.on_training_set", value=accuracy)
        raise Mistake("accuracy_score.mismatch", value=accuracy, expected=expected)
    eval_value = ctx.get("eval_accuracy")
    eval_accuracy = _number(eval_value)
    if eval_accuracy is None or not math.isclose(eval_accuracy, expected, abs_tol=2e-3):
        eval_loss = _number(ctx.namespace.get("eval_loss"))
        if eval_loss is not None and math.isclose(eval_loss, expected, abs_tol=2e-3):
            raise Mistake("accuracy_score.evaluate_swapped", value=_short(eval_value))
        raise Mistake("accuracy_score.evaluate_mismatch", value=_short(eval_value), expected=expected)
    return notes


# check id -> body; the ids and their points are the assignment's interface (``spec``).
CHECKS: dict[str, Callable[[Context], Notes]] = {
    check_id: globals()[check_id] for check_id in CHECK_POINTS
}


def run_check(check_id: str, ctx: Context) -> Verdict:
    """Run one check in full; every outcome, including a crash inside student objects, is a verdict.

    A failure that an exception in the student's cell explains (a name never defined, a model
    never fitted) carries that exception in its fields, so that the message names the cause.
    """
    try:
        notes = CHECKS[check_id](ctx)
    except Mistake as mistake:
        fields = {**mistake.fields,
                  **crashes.explain(mistake.mistake_id, mistake.fields, ctx.sources, ctx.errors)}
        return Verdict(check_id, False, mistake.mistake_id, fields)
    except Exception as exc:  # noqa: BLE001 - student objects may raise anything
        return Verdict(check_id, False, "input.student_error", {"error": error_text(exc)})
    return Verdict(check_id, True, notes=notes)
