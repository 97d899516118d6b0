"""The clean process's reading of the kernel's artifacts (autograder/artifacts.py, saved_model.py).

Each reload style builds, compiles and briefly fits a model on tiny data, saves it with the
capture cell's own function and reads it back through the grader's side: the rebuilt model must
compute the same outputs and show the checks the same facts. The guards are tested on folders
and files written the way a hostile kernel could write them.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from autograder import artifacts, model_facts, saved_model
from autograder.artifacts import ArtifactError, Unreadable, load_artifacts, save_artifacts

RNG = np.random.default_rng(0)
X = RNG.random((64, 784), dtype=np.float32)
Y = RNG.integers(0, 10, 64)


def _seq(*layers):
    return tf.keras.Sequential(list(layers))


def _functional():
    inputs = tf.keras.Input(shape=(784,))
    return tf.keras.Model(inputs, tf.keras.layers.Dense(10, activation=tf.nn.softmax)(inputs))


def _add_style():
    model = tf.keras.Sequential()
    model.add(tf.keras.Input(shape=(784,)))
    model.add(tf.keras.layers.Flatten())
    model.add(tf.keras.layers.Dense(10, activation=tf.nn.softmax))
    return model


SCCE_LOGITS = lambda: tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)  # noqa: E731

# name -> (model, compile arguments); every part a standard one, spelled as real code spells it.
STYLES = {
    "lesson": (lambda: _seq(tf.keras.layers.Dense(10)),
               lambda: dict(optimizer="adam", loss=SCCE_LOGITS(), metrics=["accuracy"])),
    "tf_nn_softmax_string_loss": (lambda: _seq(tf.keras.layers.Dense(10, activation=tf.nn.softmax)),
                                  lambda: dict(optimizer="adam", loss="sparse_categorical_crossentropy",
                                               metrics=["accuracy"])),
    "tf_math_softmax_loss_function": (lambda: _seq(tf.keras.layers.Dense(10, activation=tf.math.softmax)),
                                      lambda: dict(optimizer=tf.optimizers.Adam(),
                                                   loss=tf.keras.losses.sparse_categorical_crossentropy,
                                                   metrics=["acc"])),
    "metric_object_and_function": (lambda: _seq(tf.keras.layers.Dense(10)),
                                   lambda: dict(optimizer=keras.optimizers.Adam(1e-3), loss=SCCE_LOGITS(),
                                                metrics=[tf.keras.metrics.SparseCategoricalAccuracy(),
                                                         tf.keras.metrics.sparse_categorical_accuracy])),
    "activation_layer_tf_nn": (lambda: _seq(tf.keras.Input((784,)), tf.keras.layers.Dense(10),
                                            tf.keras.layers.Activation(tf.nn.softmax)),
                               lambda: dict(optimizer="adam", loss="sparse_categorical_crossentropy",
                                            metrics=["accuracy"])),
    "input_dropout_softmax_layer": (lambda: _seq(tf.keras.layers.InputLayer(shape=(784,)),
                                                 tf.keras.layers.Dropout(0.2), tf.keras.layers.Dense(10),
                                                 tf.keras.layers.Softmax()),
                                    lambda: dict(optimizer="adam", loss="sparse_categorical_crossentropy",
                                                 metrics=["accuracy"])),
    "tf_nn_relu_hidden": (lambda: _seq(tf.keras.layers.Dense(32, activation=tf.nn.relu),
                                       tf.keras.layers.Dense(10, activation=tf.nn.log_softmax)),
                          lambda: dict(optimizer="adam", loss=SCCE_LOGITS(), metrics=["accuracy"])),
    "functional_api": (_functional, lambda: dict(optimizer="adam", loss="sparse_categorical_crossentropy",
                                                 metrics=["accuracy"])),
    "add_style_flatten": (_add_style, lambda: dict(optimizer=tf.optimizers.Adam(),
                                                   loss=tf.keras.losses.sparse_categorical_crossentropy,
                                                   metrics=["accuracy"])),
}


def _capture(model, folder: Path, **names) -> Path:
    """What the capture cell does in the kernel."""
    save_artifacts({"model": model, "X_test": X, **names}, str(folder))
    return folder


def _trained(style: str):
    make_model, make_compile = STYLES[style]
    model = make_model()
    model.compile(**make_compile())
    model.fit(X, Y, epochs=1, batch_size=16, verbose=0)
    return model


@pytest.mark.parametrize("style", sorted(STYLES))
def test_every_standard_style_reloads_with_the_same_outputs_and_facts(style, tmp_path):
    model = _trained(style)
    loaded = load_artifacts(_capture(model, tmp_path))["model"]
    assert not isinstance(loaded, Unreadable), loaded.reason
    np.testing.assert_allclose(loaded.predict(X, verbose=0), model.predict(X, verbose=0), atol=1e-5)
    kernel_arch, clean_arch = model_facts.architecture(model), model_facts.architecture(loaded)
    assert clean_arch.output_activation == kernel_arch.output_activation
    assert clean_arch.output_activation in ("linear", "softmax", "log_softmax")
    assert [type(layer).__name__ for layer in clean_arch.weighted] == \
           [type(layer).__name__ for layer in kernel_arch.weighted]
    kernel_loss, clean_loss = model_facts.loss_facts(model.loss), model_facts.loss_facts(loaded.loss)
    assert (clean_loss.kind, clean_loss.from_logits) == (kernel_loss.kind, kernel_loss.from_logits) == \
           ("sparse", clean_loss.from_logits)
    assert model_facts.has_accuracy_metric(loaded.get_compile_config())
    assert model_facts.optimizer_name(loaded, loaded.get_compile_config()) == "Adam"
    assert int(loaded.optimizer.iterations.numpy()) == int(model.optimizer.iterations.numpy()) == 4
    assert saved_model.compile_problem(loaded, "loss") is None


def test_tf_nn_softmax_is_named_softmax_in_the_kernel_too():
    model = _seq(tf.keras.Input((784,)), tf.keras.layers.Dense(10, activation=tf.nn.softmax))
    assert model_facts.architecture(model).output_activation == "softmax"


def test_a_lambda_layer_is_refused_and_named(tmp_path):
    model = _seq(tf.keras.Input((784,)), tf.keras.layers.Dense(10), tf.keras.layers.Lambda(lambda x: x * 2))
    model.compile(optimizer="adam", loss=SCCE_LOGITS(), metrics=["accuracy"])
    loaded = load_artifacts(_capture(model, tmp_path))["model"]
    assert isinstance(loaded, Unreadable)
    assert loaded.mistake_id == "model.unsupported_component"
    assert loaded.fields["component"].endswith("(Lambda)")


def test_a_custom_activation_function_is_refused_and_named(tmp_path):
    def doubled(x):
        return 2 * x
    model = _seq(tf.keras.Input((784,)), tf.keras.layers.Dense(10, activation=doubled))
    loaded = load_artifacts(_capture(model, tmp_path))["model"]
    assert isinstance(loaded, Unreadable)
    assert (loaded.mistake_id, loaded.fields["detail"]) == ("model.unsupported_component", "function doubled")
    assert "(Dense)" in loaded.fields["component"]


def test_a_custom_loss_costs_only_the_loss_the_model_and_its_training_still_load(tmp_path):
    def my_loss(y_true, y_pred):
        return tf.keras.losses.sparse_categorical_crossentropy(y_true, y_pred, from_logits=True)
    model = _seq(tf.keras.layers.Dense(10))
    model.compile(optimizer="adam", loss=my_loss, metrics=["accuracy"])
    model.fit(X, Y, epochs=1, batch_size=16, verbose=0)
    loaded = load_artifacts(_capture(model, tmp_path))["model"]
    assert not isinstance(loaded, Unreadable), loaded.reason
    assert saved_model.compile_problem(loaded, "loss") == "function my_loss"
    assert saved_model.compile_problem(loaded, "optimizer") is None
    assert int(loaded.optimizer.iterations.numpy()) == 4  # the optimizer state was loaded
    np.testing.assert_allclose(loaded.predict(X, verbose=0), model.predict(X, verbose=0), atol=1e-5)


# --- the size guard -----------------------------------------------------------------------------


def _rewrite_model(folder: Path, edit) -> None:
    """Rewrite the saved ``config.json`` as student code in the kernel could."""
    path = folder / artifacts.MODEL_FILE
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    config = json.loads(members["config.json"])
    edit(config)
    members["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def _dense_units(units: int):
    def edit(config):
        for layer in config["config"]["layers"]:
            if layer["class_name"] == "Dense":
                layer["config"]["units"] = units
    return edit


def test_a_huge_declared_model_is_refused_before_keras_builds_it(tmp_path, monkeypatch):
    folder = _capture(_trained("lesson"), tmp_path)
    _rewrite_model(folder, _dense_units(300_000))
    monkeypatch.setattr(keras.models, "load_model", lambda *a, **k: pytest.fail("Keras was asked to build it"))
    loaded = load_artifacts(folder)["model"]
    assert isinstance(loaded, Unreadable)
    assert loaded.mistake_id == "model.too_large"
    assert "parameters" in loaded.reason


def test_too_many_layers_are_refused(tmp_path):
    folder = _capture(_trained("lesson"), tmp_path)

    def many(config):
        dropout = {"module": "keras.layers", "class_name": "Dropout", "config": {"name": "d", "rate": 0.1},
                   "registered_name": None}
        config["config"]["layers"][1:1] = [dropout] * (saved_model.MAX_LAYERS + 1)
    _rewrite_model(folder, many)
    loaded = load_artifacts(folder)["model"]
    assert (loaded.mistake_id, loaded.reason) == ("model.too_large", f"more than {saved_model.MAX_LAYERS} layers")


@pytest.mark.parametrize("build", [
    lambda: _seq(tf.keras.Input((784,)), tf.keras.layers.Dense(10)),
    lambda: _seq(tf.keras.Input((784,)), tf.keras.layers.Dense(128, activation="relu"), tf.keras.layers.Dropout(0.2),
                 tf.keras.layers.BatchNormalization(), tf.keras.layers.Dense(10)),
    lambda: _seq(tf.keras.Input((784,)), tf.keras.layers.Reshape((28, 28, 1)), tf.keras.layers.Conv2D(8, 3),
                 tf.keras.layers.MaxPooling2D(), tf.keras.layers.Conv2D(4, (3, 3), padding="same", strides=2),
                 tf.keras.layers.Flatten(), tf.keras.layers.Dense(10)),
    _functional,
], ids=["lesson", "hidden_layer", "small_cnn", "functional"])
def test_the_declared_size_is_what_keras_builds(build):
    model = build()
    config = json.loads(json.dumps(keras.saving.serialize_keras_object(model)))  # as config.json holds it
    assert saved_model.declared_size(config).params == model.count_params()


def test_an_unknown_kind_of_layer_is_refused_by_name():
    model = _seq(tf.keras.Input((784,)), tf.keras.layers.Dense(10), tf.keras.layers.RepeatVector(3))
    with pytest.raises(saved_model.ModelRefused) as refused:
        saved_model.declared_size(json.loads(json.dumps(keras.saving.serialize_keras_object(model))))
    assert refused.value.mistake_id == "model.unexpected_layer_kind"
    assert "(RepeatVector)" in refused.value.fields["layer"]


def test_an_archive_with_extra_members_or_a_bomb_is_refused(tmp_path):
    folder = _capture(_trained("lesson"), tmp_path)
    path = folder / artifacts.MODEL_FILE
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("assets/extra.bin", b"x")
    assert load_artifacts(folder)["model"].reason.startswith("unexpected contents")
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("config.json", b" " * (saved_model.MAX_CONFIG_BYTES + 1))
        zf.writestr("model.weights.h5", b"")
    with pytest.raises(saved_model.ModelRefused, match="config.json declares"):
        saved_model.read_archive(bomb.getvalue())


# --- the folder: plain files only, by fixed names -----------------------------------------------


def _manifest(folder: Path, edit) -> None:
    path = folder / artifacts.MANIFEST
    manifest = json.loads(path.read_text())
    edit(manifest)
    path.write_text(json.dumps(manifest))


@pytest.mark.parametrize("edit", [
    lambda m: m.update(model="/etc/passwd"),
    lambda m: m.update(model="../model.keras"),
    lambda m: m["arrays"].append("../../etc/hostname"),
    lambda m: m["arrays"].append("/etc/hostname"),
    lambda m: m["present"].append("__builtins__"),
    lambda m: m.update(unreadable={"model": 5}),
], ids=["absolute_model", "dotdot_model", "dotdot_array", "absolute_array", "unknown_name", "bad_reason"])
def test_a_manifest_naming_anything_but_the_interface_is_refused(tmp_path, edit):
    folder = _capture(_seq(tf.keras.layers.Dense(10)), tmp_path, probability=np.ones((3, 10)) / 10)
    _manifest(folder, edit)
    with pytest.raises(ArtifactError):
        load_artifacts(folder)


def test_links_fifos_and_oversized_files_are_not_read(tmp_path, monkeypatch):
    outside = tmp_path / "secret.npy"
    np.save(outside, np.arange(3))
    folder = tmp_path / "artifacts"
    folder.mkdir()
    names = {"probability": np.ones((3, 10)) / 10, "y_predict": np.zeros(3, int), "accuracy": 0.5,
             "eval_loss": 0.1, "first_label": 3}
    _capture(_seq(tf.keras.layers.Dense(10)), folder, **names)
    (folder / "probability.npy").unlink()
    os.symlink(outside, folder / "probability.npy")
    (folder / "y_predict.npy").unlink()
    os.link(outside, folder / "y_predict.npy")
    (folder / "accuracy.npy").unlink()
    os.mkfifo(folder / "accuracy.npy")  # opened without O_NONBLOCK, a FIFO would hang the reader
    monkeypatch.setattr(artifacts, "MAX_ARRAY_BYTES", 1000)  # X_test (64 x 784) is far larger
    namespace = load_artifacts(folder)
    for name in ("probability", "y_predict", "accuracy"):
        assert isinstance(namespace[name], Unreadable) and "not a plain file" in namespace[name].reason
    assert isinstance(namespace["X_test"], Unreadable) and "more than 1000" in namespace["X_test"].reason
    assert namespace["eval_loss"] == pytest.approx(0.1) and int(namespace["first_label"]) == 3


def test_a_symlinked_artifact_folder_is_refused(tmp_path):
    (tmp_path / "real").mkdir()
    folder = _capture(_seq(tf.keras.layers.Dense(10)), tmp_path / "real")
    os.symlink(folder, tmp_path / "link")
    with pytest.raises(OSError):
        load_artifacts(tmp_path / "link")
