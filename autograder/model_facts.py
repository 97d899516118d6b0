"""Facts read off a Keras 3 model: its layers, output activation, loss, optimizer and training.

Everything is read from the model object itself (layer configs, weights, compile config,
training history), never from what the student printed. Keras 3 removed
``layer.input_shape``/``output_shape``, so shapes come from the weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras

from .saved_model import FUNCTION_ALIASES

# Layers without weights that may stand in the lesson's model without changing it.
_NEUTRAL_LAYERS = ("InputLayer", "Flatten")
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


@dataclass(frozen=True)
class Training:
    """How the model was trained: total optimizer steps and the last ``fit``'s parameters."""

    iterations: int
    steps_per_epoch: int | None
    last_fit_epochs: int

    @property
    def epochs(self) -> int:
        """Epochs trained in total, counting several ``fit`` calls on the same model."""
        if not self.steps_per_epoch:
            return self.last_fit_epochs
        return max(self.last_fit_epochs, self.iterations // self.steps_per_epoch)


def training(model: keras.Model) -> Training:
    optimizer = getattr(model, "optimizer", None)
    iterations = int(optimizer.iterations.numpy()) if optimizer is not None else 0
    history = getattr(model, "history", None)
    params = getattr(history, "params", None) or {}
    return Training(
        iterations=iterations,
        steps_per_epoch=params.get("steps"),
        last_fit_epochs=len(getattr(history, "epoch", []) or []),
    )
