"""Reading the student's saved ``.keras`` model on the grader's side, without running their code.

The capture cell saves the model with Keras' own ``model.save`` in the kernel, which runs
student code, so the file is untrusted. The clean process reads it here in three steps:

1. **The archive** (:func:`read_archive`): a zip holding exactly ``config.json``,
   ``metadata.json`` and ``model.weights.h5``, each read with a size bound, so a zip bomb or a
   planted extra member is refused before anything is parsed.
2. **The config** (:func:`normalise`, :func:`declared_size`): a JSON document. Keras 3 writes a
   function from ``tf.nn`` or ``tf.math`` (``activation=tf.nn.softmax``) as a bare function
   *name* (``softmax_v2``) that ``safe_mode`` cannot resolve, so the whole model fails to load
   although it is made of standard parts. A fixed allow-list rewrites those names to Keras'
   own string equivalents; nothing else is ever resolved, and ``safe_mode`` stays on. A model
   whose config declares more parameters or layers than this lesson's model could need, or a
   layer this module cannot size, is refused *before* Keras builds it (building allocates
   every weight: a declared ``Dense(300000)`` is almost 1 GB).
3. **The model** (:func:`load`): ``keras.models.load_model(..., safe_mode=True)`` on the
   normalised archive. A compile component Keras cannot resolve (a custom loss, metric or
   optimizer) does not sink the model: it is named in :attr:`LoadedModel.problems`, and the
   checks that need it report it, while the others judge the model.

Every refusal is a :class:`ModelRefused` with a mistake id and the component it names.
"""

from __future__ import annotations

import io
import json
import math
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# A Dense(10) on 784 inputs has 7 850 parameters and the lesson's model at most a handful of
# layers. The bounds leave room for every plausible mistake (hidden layers, a small CNN), so
# those still get their own message from the checks, and refuse only models no answer needs.
MAX_MODEL_PARAMS = 2_000_000
MAX_LAYERS = 32
MAX_DIMENSION = 1_000_000  # any single size in a layer config (units, filters, a shape entry)
MAX_CONFIG_BYTES = 1 << 20
MAX_METADATA_BYTES = 64 << 10
# Weights, Adam's two moments and a little HDF5 overhead.
MAX_WEIGHTS_BYTES = MAX_MODEL_PARAMS * 4 * 3 + (8 << 20)
MAX_ARCHIVE_BYTES = MAX_WEIGHTS_BYTES + MAX_CONFIG_BYTES + MAX_METADATA_BYTES + (1 << 20)
CONFIG, METADATA, WEIGHTS = "config.json", "metadata.json", "model.weights.h5"
MEMBER_LIMITS = {CONFIG: MAX_CONFIG_BYTES, METADATA: MAX_METADATA_BYTES, WEIGHTS: MAX_WEIGHTS_BYTES}

# Standard functions that Keras 3 saves under a name ``safe_mode`` cannot resolve, and the Keras
# built-in each one is. Only these names are rewritten; the table is the whole allow-list.
# ``tf.nn.relu``, ``tf.nn.sigmoid``, ``tf.keras.losses.sparse_categorical_crossentropy`` and
# the like are saved under Keras' own names already and need no entry.
FUNCTION_ALIASES: dict[str, str] = {
    "softmax_v2": "softmax",          # tf.nn.softmax, tf.math.softmax
    "log_softmax_v2": "log_softmax",  # tf.nn.log_softmax, tf.math.log_softmax
    "swish": "silu",                  # tf.nn.swish, tf.nn.silu
    "exp": "exponential",             # tf.math.exp, tf.exp, keras.ops.exp
}

# Layers whose weights are sized from the config alone, by kind (see ``_Sizer``).
_SAME_SHAPE = {"Dropout", "Activation", "Softmax", "ReLU", "LeakyReLU", "ELU", "GaussianNoise",
               "GaussianDropout", "AlphaDropout", "SpatialDropout1D", "SpatialDropout2D",
               "ActivityRegularization", "Rescaling", "Identity", "UnitNormalization"}
_MODELS = {"Sequential", "Functional", "Model"}


class ModelRefused(Exception):
    """The saved model is not loaded; ``mistake_id`` and ``fields`` say why, for the student."""

    def __init__(self, mistake_id: str, reason: str, **fields: object) -> None:
        super().__init__(reason)
        self.mistake_id, self.reason, self.fields = mistake_id, reason, fields


@dataclass
class Archive:
    config: dict[str, Any]
    members: dict[str, bytes]


@dataclass
class LoadedModel:
    model: Any
    # Compile components that could not be read, by role ("loss", "metrics", "optimizer"),
    # each with the text that names it; the checks that need one report it.
    problems: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Size:
    params: int
    layers: int


# --- 1. the archive ---------------------------------------------------------------------------


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    if info.file_size > limit:
        raise ModelRefused("input.unreadable", f"{info.filename} declares {info.file_size} bytes")
    with zf.open(info) as member:
        data = member.read(limit + 1)
    if len(data) > limit:
        raise ModelRefused("input.unreadable", f"{info.filename} is larger than it declares")
    return data


def read_archive(blob: bytes) -> Archive:
    """The members of a ``.keras`` file, each bounded; anything unexpected is refused."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(blob))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise ModelRefused("input.unreadable", f"not a Keras file ({exc})") from None
    with zf:
        infos = zf.infolist()
        names = [i.filename for i in infos]
        unexpected = sorted(set(names) - set(MEMBER_LIMITS))
        if unexpected or len(names) != len(set(names)) or CONFIG not in names or WEIGHTS not in names:
            raise ModelRefused("input.unreadable", f"unexpected contents {sorted(names)[:6]}")
        try:
            members = {i.filename: _read_member(zf, i, MEMBER_LIMITS[i.filename]) for i in infos}
        except (zipfile.BadZipFile, OSError, RuntimeError, EOFError) as exc:
            raise ModelRefused("input.unreadable", f"damaged Keras file ({exc})") from None
    try:
        config = json.loads(members[CONFIG])
    except (ValueError, UnicodeDecodeError):
        raise ModelRefused("input.unreadable", "config.json is not JSON") from None
    if not isinstance(config, dict):
        raise ModelRefused("input.unreadable", "config.json is not an object")
    return Archive(config, members)


# --- 2. the config ----------------------------------------------------------------------------


def _is_function_ref(node: object) -> bool:
    return (isinstance(node, dict) and node.get("class_name") == "function"
            and node.get("module") == "builtins" and isinstance(node.get("config"), str))


def _rewrite(node: object) -> object:
    """``node`` with every allow-listed function reference replaced by its Keras name."""
    if _is_function_ref(node):
        alias = FUNCTION_ALIASES.get(node["config"])  # type: ignore[index]
        return alias if alias is not None else node
    if isinstance(node, dict):
        return {k: _rewrite(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_rewrite(v) for v in node]
    return node


def _layer_entries(model_config: dict, where: str = "") -> Iterator[tuple[str, dict]]:
    """Every layer entry of a (possibly nested) model config, with a readable path."""
    layers = (model_config.get("config") or {}).get("layers")
    if not isinstance(layers, list):
        return
    for entry in layers:
        if not isinstance(entry, dict):
            raise ModelRefused("input.unreadable", "a layer entry is not an object")
        name = str((entry.get("config") or {}).get("name", "?"))[:40]
        kind = str(entry.get("class_name", "?"))[:40]
        path = f"{where}{name} ({kind})"
        yield path, entry
        if kind in _MODELS:
            yield from _layer_entries(entry, path + " / ")


def _unsafe_parts(node: object, where: str) -> Iterator[tuple[str, str]]:
    """(component, why) for everything in ``node`` that would be code rather than data."""
    if isinstance(node, dict):
        if node.get("class_name") == "__lambda__":
            yield where, "Python lambda"
        elif _is_function_ref(node):
            name = node["config"]
            if not _keras_function(name):
                yield where, f"function {name[:40]}"
        elif isinstance(node.get("registered_name"), str) and ">" in node["registered_name"]:
            yield where, f"custom object {node['registered_name'][:60]}"
        elif isinstance(node.get("module"), str) and "class_name" in node \
                and not (_keras_module(node["module"]) or node["module"] == "builtins"):
            yield where, f"{str(node['class_name'])[:40]} from {node['module'][:40]}"
        for key, value in node.items():
            yield from _unsafe_parts(value, where)
    elif isinstance(node, list):
        for value in node:
            yield from _unsafe_parts(value, where)


def _keras_module(module: str) -> bool:
    return module == "keras" or module.startswith("keras.")


def _keras_function(name: str) -> bool:
    """Whether ``safe_mode`` resolves a saved function name to a Keras built-in."""
    from keras.src.saving import serialization_lib

    config = {"module": "builtins", "class_name": "function", "config": name, "registered_name": "function"}
    try:
        serialization_lib.deserialize_keras_object(config, safe_mode=True)
    except Exception:  # noqa: BLE001 - any failure means "not a built-in"
        return False
    return True


def normalise(config: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The config with standard functions spelled as Keras strings, and the compile problems.

    Raises :class:`ModelRefused` for a model part that is code (a ``Lambda`` layer, a lambda or
    custom function, a registered custom class): the model cannot be rebuilt without running
    it. A compile component that is code is dropped instead and reported by role, so the
    layers and weights still reach the checks.
    """
    config = _rewrite(config)  # type: ignore[assignment]
    compile_config = config.pop("compile_config", None)
    if not isinstance(config.get("class_name"), str) or config["class_name"] not in _MODELS:
        raise ModelRefused("model.unsupported_component", "not a Keras model",
                           component=str(config.get("class_name"))[:40], detail="not a model")
    for path, entry in _layer_entries(config):
        if entry.get("class_name") == "Lambda":
            raise ModelRefused("model.unsupported_component", "Lambda layer", component=path,
                               detail="Lambda")
        module = entry.get("module")
        if not (isinstance(module, str) and _keras_module(module)):
            raise ModelRefused("model.unsupported_component", "custom layer", component=path,
                               detail=f"module {str(module)[:40]}")
        for component, why in _unsafe_parts(entry.get("config"), path):
            raise ModelRefused("model.unsupported_component", why, component=component, detail=why)
    problems: dict[str, str] = {}
    if isinstance(compile_config, dict):
        for role in ("loss", "metrics", "weighted_metrics", "loss_weights", "optimizer"):
            bad = next(_unsafe_parts(compile_config.get(role), role), None)
            if bad is None:
                continue
            problems["metrics" if role == "weighted_metrics" else role] = bad[1]
            if role == "optimizer":
                compile_config = None
                break
            compile_config[role] = _placeholder(role, compile_config.get(role))
        if compile_config is not None:
            config["compile_config"] = compile_config
    return config, problems


def _placeholder(role: str, value: object) -> object:
    """What stands for an unreadable compile component, so that the rest still compiles.

    The optimizer's state can only be loaded into a compiled model, and the training check
    needs it; the unreadable part itself is reported from ``problems``, never judged.
    """
    if role == "loss":
        return "sparse_categorical_crossentropy"
    if isinstance(value, list):
        return [v for v in value if next(_unsafe_parts(v, role), None) is None]
    return None


class _Sizer:
    """Declared weights of a model config, computed from the config alone.

    Keras allocates every weight when it builds the model, before any weight is read, so the
    size has to be known from the config. Shapes are followed through the layers (batch
    dimension left out, ``None`` where unknown). A layer this module cannot size is refused:
    this lesson's answers never need one.
    """

    def __init__(self) -> None:
        self.params = 0
        self.layers = 0

    def model(self, entry: dict, shape: tuple | None, where: str) -> tuple | None:
        config = entry.get("config") or {}
        layers = config.get("layers")
        if not isinstance(layers, list):
            return shape
        if entry.get("class_name") == "Sequential":
            if shape is None:
                shape = _shape_of(config.get("build_input_shape"))
            for layer in layers:
                shape = self.layer(layer, shape, where)
            return shape
        outputs: dict[str, tuple | None] = {}  # functional: follow each layer's first input
        for layer in layers:
            nodes = layer.get("inbound_nodes") or []
            source = _first_input(nodes)
            shape_in = outputs.get(source) if source is not None else None
            outputs[str(layer.get("name"))] = self.layer(layer, shape_in, where)
        out = config.get("output_layers")
        return outputs.get(str(out[0])) if isinstance(out, list) and out and isinstance(out[0], str) else None

    def layer(self, entry: dict, shape: tuple | None, where: str) -> tuple | None:
        self.layers += 1
        kind = entry.get("class_name")
        config = entry.get("config") or {}
        name = f"{where}{str(config.get('name', '?'))[:40]} ({str(kind)[:40]})"
        if self.layers > MAX_LAYERS:
            raise ModelRefused("model.too_large", f"more than {MAX_LAYERS} layers",
                               params=self.params, layers=self.layers)
        if kind in _MODELS:
            return self.model(entry, shape, name + " / ")
        if shape is None:
            shape = _shape_of((entry.get("build_config") or {}).get("input_shape"))
        if kind == "InputLayer":
            return _shape_of(config.get("batch_shape") or config.get("batch_input_shape"))
        if kind in _SAME_SHAPE:
            return shape
        if kind == "Flatten":
            return None if shape is None else (_product(shape),)
        if kind == "Reshape":
            return tuple(_dim(d) for d in config.get("target_shape") or ())
        last = shape[-1] if shape else None
        if kind == "Dense":
            units = _dim(config.get("units"))
            self._add((last or 0) * (units or 0) + (units or 0 if config.get("use_bias", True) else 0))
            return (*(shape or (None,))[:-1], units)
        if kind in ("BatchNormalization", "LayerNormalization"):
            self._add((4 if kind == "BatchNormalization" else 2) * (last or 0))
            return shape
        if kind == "PReLU":
            self._add(_product(shape) if shape else 0)
            return shape
        if kind == "Conv2D":
            filters = _dim(config.get("filters")) or 0
            kernel = [_dim(k) or 0 for k in _pair(config.get("kernel_size"))]
            self._add(kernel[0] * kernel[1] * (last or 0) * filters + (filters if config.get("use_bias", True) else 0))
            return _pooled(shape, kernel, _pair(config.get("strides") or 1), config.get("padding"), filters)
        if kind in ("MaxPooling2D", "AveragePooling2D", "MaxPool2D", "AvgPool2D"):
            pool = [_dim(k) or 1 for k in _pair(config.get("pool_size") or 2)]
            return _pooled(shape, pool, _pair(config.get("strides") or pool), config.get("padding"), last)
        if kind in ("GlobalAveragePooling2D", "GlobalMaxPooling2D", "GlobalAvgPool2D", "GlobalMaxPool2D"):
            return (last,)
        raise ModelRefused("model.unexpected_layer_kind", f"layer {kind}", layer=name)

    def _add(self, params: int) -> None:
        self.params += params
        if self.params > MAX_MODEL_PARAMS:
            raise ModelRefused("model.too_large", f"more than {MAX_MODEL_PARAMS} parameters",
                               params=self.params, layers=self.layers)


def _dim(value: object) -> int | None:
    """A size from the config, refused when absurd (a bomb declares its size here)."""
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ModelRefused("input.unreadable", f"invalid size {str(value)[:20]}")
    if value > MAX_DIMENSION:
        raise ModelRefused("model.too_large", f"a size of {value}", params=value, layers=0)
    return value


def _shape_of(value: object) -> tuple | None:
    if not isinstance(value, (list, tuple)) or not value:
        return None
    return tuple(_dim(d) for d in value[1:])


def _product(shape: tuple) -> int | None:
    if any(d is None for d in shape):
        return None
    return _dim(math.prod(shape)) if shape else 1


def _pair(value: object) -> tuple:
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return tuple(value)
    return (value, value)


def _pooled(shape: tuple | None, window: list, strides: tuple, padding: object, channels: int | None) -> tuple | None:
    if shape is None or len(shape) != 3:
        return None if shape is None else (*shape[:-1], channels)
    out = []
    for size, w, s in zip(shape[:2], window, strides):
        s = _dim(s) or 1
        if size is None:
            out.append(None)
        elif padding == "same":
            out.append(-(-size // s))
        else:
            out.append(max(0, (size - w) // s + 1))
    return (*out, channels)


def _first_input(nodes: object) -> str | None:
    """The layer feeding a functional layer's first input (``keras_history``'s first entry)."""
    def walk(node: object) -> str | None:
        if isinstance(node, dict):
            history = (node.get("config") or {}).get("keras_history") if node.get("class_name") == "__keras_tensor__" else None
            if isinstance(history, list) and history and isinstance(history[0], str):
                return history[0]
            for value in node.values():
                found = walk(value)
                if found:
                    return found
        elif isinstance(node, list):
            for value in node:
                found = walk(value)
                if found:
                    return found
        return None
    return walk(nodes)


def declared_size(config: dict[str, Any]) -> Size:
    """Parameters and layers the config declares; refused past the lesson's bounds."""
    sizer = _Sizer()
    sizer.model(config, None, "")
    return Size(sizer.params, sizer.layers)


# --- 3. the model ----------------------------------------------------------------------------

_PROBLEMS_ATTR = "_autograder_compile_problems"


def set_problems(model: Any, problems: dict[str, str]) -> None:
    object.__setattr__(model, _PROBLEMS_ATTR, dict(problems))


def compile_problem(model: Any, role: str) -> str | None:
    """Why the compile component ``role`` ("loss", "metrics", "optimizer") could not be read."""
    return (getattr(model, _PROBLEMS_ATTR, None) or {}).get(role)


def load(blob: bytes) -> LoadedModel:
    """The student's model, rebuilt by Keras with ``safe_mode`` from a normalised copy of ``blob``."""
    import keras

    archive = read_archive(blob)
    config, problems = normalise(archive.config)
    declared_size(config)
    members = {**archive.members, CONFIG: json.dumps(config).encode()}
    with tempfile.TemporaryDirectory(prefix="nn-autograder-model-") as tmp:
        path = Path(tmp) / "model.keras"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
            for name, data in members.items():
                zf.writestr(name, data)
        model = keras.models.load_model(path, safe_mode=True, compile="compile_config" in config)
    return LoadedModel(model, problems)
