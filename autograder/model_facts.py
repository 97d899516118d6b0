"""Facts read off a Keras 3 model: its layers, output activation, loss, optimizer and training.

Everything is read from the model object itself (layer configs, weights, compile config,
optimizer state, training history), never from what the student printed. The training history
is the one fact here that student code can rewrite without changing the model, so it is kept
apart as a :class:`TrainingRecord` that check_training only cross-checks. Keras 3 removed
``layer.input_shape``/``output_shape``, so shapes come from the weights.
"""

from __future__ import annotations

import itertools
import operator
from dataclasses import dataclass

import keras

from .saved_model import FUNCTION_ALIASES

# Layers without weights that may stand in the lesson's model without changing it.
# Layers that only move values between axes. Reshape then Flatten (a tutorial's image round
# trip) leaves the 784 pixels in order; check_architecture checks the shapes at both ends.
_NEUTRAL_LAYERS = ("InputLayer", "Flatten", "Reshape")
_ACTIVATION_LAYERS = ("Activation", "Softmax", "ReLU")
_ACCURACY_METRICS = {"accuracy", "acc", "sparse_categorical_accuracy", "sparsecategoricalaccuracy"}
_LOSS_ALIASES = {
    "sparse_categorical_crossentropy": "sparse",
    "sparsecategoricalcrossentropy": "sparse",
    "categorical_crossentropy": "categorical",
    "categoricalcrossentropy": "categorical",
}


def flat_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """All leaf layers, with nested models expanded in order."""
    out: list[keras.layers.Layer] = []
    for layer in model.layers:
        out.extend(flat_layers(layer) if isinstance(layer, keras.Model) else [layer])
    return out


def io_shapes(model: keras.Model) -> tuple[tuple, tuple] | None:
    """The per-image input and output shapes of a built model; ``None`` where Keras cannot say.

    The Dense kernel's 784 rows do not show the input the model takes: ``Flatten`` makes 784
    rows from a 28x28 image, which the lesson's flat ``X_train`` rows are not.
    """
    try:
        inputs, outputs = model.input_shape, model.output_shape
    except Exception:  # noqa: BLE001 - a subclassed model has no static shapes
        return None
    if not (isinstance(inputs, tuple) and isinstance(outputs, tuple)):  # several inputs or outputs
        return None
    return tuple(inputs[1:]), tuple(outputs[1:])


def _activation_name(activation: object) -> str:
    """Keras' name for an activation: ``tf.nn.softmax`` (``softmax_v2``) is ``softmax``."""
    if activation is None:
        return "linear"
    if isinstance(activation, str):
        return FUNCTION_ALIASES.get(activation, activation)
    name = getattr(activation, "__name__", type(activation).__name__).lower()
    return FUNCTION_ALIASES.get(name, name)


@dataclass(frozen=True)
class Architecture:
    """The shape of the network, as far as the checks care."""

    weighted: list[keras.layers.Layer]
    unexpected: list[str]      # class names of parameterless layers we do not tolerate
    output_activation: str     # "linear", "softmax", "relu", ...

    @property
    def outputs_probabilities(self) -> bool:
        return self.output_activation == "softmax"


def architecture(model: keras.Model) -> Architecture:
    """Classify every layer of ``model``; the last activation wins, as it does in the forward pass."""
    weighted, unexpected, activation = [], [], "linear"
    for layer in flat_layers(model):
        kind = type(layer).__name__
        if layer.weights:
            weighted.append(layer)
            activation = _activation_name(getattr(layer, "activation", None))
        elif kind == "Softmax":
            activation = "softmax"
        elif kind in _ACTIVATION_LAYERS:
            activation = _activation_name(getattr(layer, "activation", kind.lower()))
        elif kind not in _NEUTRAL_LAYERS:
            unexpected.append(kind)
    return Architecture(weighted, unexpected, activation)


@dataclass(frozen=True)
class LossFacts:
    kind: str          # "sparse", "categorical" or "other"
    from_logits: bool
    name: str          # for messages


def loss_facts(loss: object) -> LossFacts:
    """Describe the loss given to ``compile``: an object, a string alias or a function."""
    if isinstance(loss, keras.losses.Loss):
        config = loss.get_config()
        name = type(loss).__name__
        if type(loss).__name__ == "LossFunctionWrapper":
            fn = getattr(loss, "fn", None)
            name = getattr(fn, "__name__", name)
        key = name.lower()
        from_logits = bool(config.get("from_logits", getattr(loss, "_fn_kwargs", {}).get("from_logits", False)))
        return LossFacts(_LOSS_ALIASES.get(key, "other"), from_logits, name)
    name = loss if isinstance(loss, str) else getattr(loss, "__name__", repr(loss))
    return LossFacts(_LOSS_ALIASES.get(str(name).lower(), "other"), False, str(name))


def compile_config(model: keras.Model) -> dict | None:
    """The compile arguments, or ``None`` for a model that was never compiled."""
    if not getattr(model, "compiled", False):
        return None
    return model.get_compile_config()


def _metric_names(metrics: object) -> set[str]:
    """Flatten ``metrics=`` (strings, serialized objects, nested lists/dicts) to lower-case names."""
    if metrics is None:
        return set()
    if isinstance(metrics, str):
        return {metrics.lower()}
    if isinstance(metrics, dict):
        if "class_name" in metrics:  # a serialized object, or a function saved by its name
            inner = metrics.get("config")
            name = inner if isinstance(inner, str) else (inner or {}).get("name", "") if isinstance(inner, dict) else ""
            return {str(metrics["class_name"]).lower(), str(name).lower()}
        return set().union(*(_metric_names(v) for v in metrics.values())) if metrics else set()
    if isinstance(metrics, (list, tuple)):
        return set().union(*(_metric_names(v) for v in metrics)) if metrics else set()
    return {str(getattr(metrics, "name", type(metrics).__name__)).lower()}


def has_accuracy_metric(config: dict) -> bool:
    return bool(_metric_names(config.get("metrics")) & _ACCURACY_METRICS)


def optimizer_name(model: keras.Model, config: dict) -> str:
    """The optimizer's class name (``Adam``, ``SGD``, ...), from the model's optimizer object.

    The compile config is the fallback; it serializes ``optimizer='adam'`` as an ``Adam``
    object too, so both spellings give the same name.
    """
    optimizer = getattr(model, "optimizer", None)
    if isinstance(optimizer, keras.optimizers.Optimizer):
        return type(optimizer).__name__
    optimizer = config.get("optimizer")
    if isinstance(optimizer, dict):
        return str(optimizer.get("class_name", ""))
    return str(optimizer)


# More epochs than any lesson's fit runs; a longer record is cut (and then cannot be consistent).
MAX_RECORDED_EPOCHS = 10_000


def _count(value: object) -> int | None:
    """``value`` as a non-negative int (Python or NumPy), else ``None``."""
    if isinstance(value, bool):
        return None
    try:
        number = operator.index(value)
    except TypeError:
        return None
    return number if number >= 0 else None


@dataclass(frozen=True)
class TrainingRecord:
    """What ``model.history`` says about the model's last ``fit``. Self-reported: never decisive.

    The History object lives in the student's kernel, where one assignment rewrites it, so
    check_training only cross-checks it against the optimizer's step counter and the notebook's
    ``fit`` calls. ``problem`` says why a record cannot be one that Keras wrote.
    """

    epoch: tuple[int, ...] = ()                    # the epoch indices the last fit ran
    planned_epochs: int | None = None              # params['epochs']
    steps: int | None = None                       # params['steps']: batches per epoch
    logged: tuple[tuple[str, int], ...] = ()       # (metric, number of per-epoch values)
    problem: str | None = None

    @property
    def epochs_run(self) -> int:
        return len(self.epoch)

    def inconsistency(self) -> str | None:
        """Why this cannot be a record Keras wrote, or ``None``.

        Keras appends one index per epoch run, counting up from ``initial_epoch`` and below
        ``params['epochs']``, and one value per epoch to every training metric (validation
        metrics may be logged less often, with ``validation_freq``).
        """
        if self.problem:
            return self.problem
        if any(b != a + 1 for a, b in zip(self.epoch, self.epoch[1:])):
            return "epoch indices are not consecutive"
        if self.epoch and self.planned_epochs is not None and self.epoch[-1] >= self.planned_epochs:
            return "epoch index beyond params['epochs']"
        for name, count in self.logged:
            if count > self.epochs_run or (count != self.epochs_run and not name.startswith("val_")):
                return f"{count} values of {name!r} for {self.epochs_run} epochs"
        return None

    def to_json(self) -> dict:
        return {"epoch": list(self.epoch), "planned_epochs": self.planned_epochs, "steps": self.steps,
                "logged": [list(item) for item in self.logged], "problem": self.problem}

    @classmethod
    def from_json(cls, data: object) -> "TrainingRecord":
        """Rebuild a record from the manifest, which came from the kernel: any shape is possible."""
        if data is None:
            return cls()
        try:
            assert isinstance(data, dict)
            epoch = data.get("epoch", [])
            logged = data.get("logged", [])
            assert isinstance(epoch, list) and isinstance(logged, list) and len(epoch) <= MAX_RECORDED_EPOCHS
            assert all(_count(e) is not None for e in epoch)
            assert all(isinstance(i, list) and len(i) == 2 and isinstance(i[0], str) and _count(i[1]) is not None
                       for i in logged[:100])
            planned, steps, problem = (data.get(k) for k in ("planned_epochs", "steps", "problem"))
            assert all(v is None or _count(v) is not None for v in (planned, steps))
            assert problem is None or isinstance(problem, str)
        except AssertionError:
            return cls(problem="the training record is malformed")
        return cls(tuple(epoch), planned, steps, tuple((str(n), int(c)) for n, c in logged[:100]),
                   problem[:200] if problem else None)


def read_record(history: object) -> TrainingRecord:
    """The record of a live Keras ``History`` (or a rebuilt one): whatever it holds, never raises."""
    if history is None:
        return TrainingRecord()
    if isinstance(history, TrainingRecord):
        return history
    try:
        epoch = list(itertools.islice(getattr(history, "epoch", None) or [], MAX_RECORDED_EPOCHS + 1))
        params = getattr(history, "params", None) or {}
        logs = getattr(history, "history", None) or {}
        if len(epoch) > MAX_RECORDED_EPOCHS or not isinstance(params, dict) or not isinstance(logs, dict):
            raise ValueError("not the shape Keras gives")
        indices = tuple(_count(e) for e in epoch)
        if None in indices:
            raise ValueError("epoch indices are not integers")
        planned, steps = _count(params.get("epochs")), _count(params.get("steps"))
        if (params.get("epochs") is not None and planned is None) or (params.get("steps") is not None and steps is None):
            raise ValueError("params are not integers")
        logged = tuple((str(name), len(values)) for name, values in list(logs.items())[:100])
    except Exception as exc:  # noqa: BLE001 - a student object may raise anything: the record is unusable
        return TrainingRecord(problem=f"unreadable training record ({type(exc).__name__}: {exc})"[:200])
    return TrainingRecord(indices, planned, steps, logged)


@dataclass(frozen=True)
class Training:
    """The optimizer's step counter and the history's record of the last ``fit``."""

    iterations: int          # optimizer steps over every fit since compile (saved with the model)
    record: TrainingRecord   # self-reported; only cross-checked


def training(model: keras.Model) -> Training:
    optimizer = getattr(model, "optimizer", None)
    iterations = int(optimizer.iterations.numpy()) if optimizer is not None else 0
    return Training(iterations=iterations, record=read_record(getattr(model, "history", None)))
