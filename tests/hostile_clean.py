"""Attacks on the clean process: oversized or hostile saved models and manifests.

The capture cell runs in the student's kernel after their last cell, so student code can wrap
``autograder.artifacts.save_artifacts`` and rewrite what it saved: the model's config, the
manifest, the files themselves. The clean process reads all of it as untrusted data
(``autograder/saved_model.py``, ``autograder/artifacts.py``), confined like the kernel.

Also here: models made of standard parts in other spellings (``tf.nn.softmax``, a loss
function, the functional API) that must reload and earn full marks, and a model with one part
that is code, which costs only the checks that need that part.
"""

from __future__ import annotations

from hostile_kit import P10, SOLUTION, HostileCase, everything, expect

# Wraps the capture: the real one runs, then ``_tamper(folder)`` rewrites what it saved.
_WRAP = """
import autograder.artifacts as _artifacts, json as _json, os as _os, zipfile as _zipfile
_real_save = _artifacts.save_artifacts
def _evil_save(namespace, folder):
    _real_save(namespace, folder)
    _tamper(folder)
_artifacts.save_artifacts = _evil_save
"""

_HUGE_CONFIG = _WRAP + """
def _tamper(folder):
    path = _os.path.join(folder, 'model.keras')
    with _zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist()}
    config = _json.loads(members['config.json'])
    for layer in config['config']['layers']:
        if layer['class_name'] == 'Dense':
            layer['config']['units'] = 300000
    members['config.json'] = _json.dumps(config).encode()
    with _zipfile.ZipFile(path, 'w') as z:
        for n, b in members.items():
            z.writestr(n, b)
"""


def _manifest_edit(edit: str) -> str:
    return _WRAP + f"""
def _tamper(folder):
    path = _os.path.join(folder, 'manifest.json')
    manifest = _json.load(open(path))
    {edit}
    open(path, 'w').write(_json.dumps(manifest))
"""


_SYMLINK = _WRAP + """
def _tamper(folder):
    target = _os.path.join(folder, 'probability.npy')
    _os.remove(target)
    _os.symlink('/etc/hostname', target)
"""

_TUTORIAL_P10 = """model = tf.keras.Sequential([
    tf.keras.layers.Dense(10, activation=tf.nn.softmax)
])
loss_fn = 'sparse_categorical_crossentropy'
model.compile(optimizer='adam', loss=loss_fn, metrics=['accuracy'])
model.fit(X_train, y_train, epochs=5)
"""
_TUTORIAL_P11 = """predictions = model.predict(X_test)
probability = predictions
first_label = np.argmax(probability[0])
"""

_FUNCTIONAL_P10 = """inputs = tf.keras.Input(shape=(784,))
outputs = tf.keras.layers.Activation(tf.nn.softmax)(tf.keras.layers.Dense(10)(inputs))
model = tf.keras.Model(inputs, outputs)
loss_fn = tf.keras.losses.sparse_categorical_crossentropy
model.compile(optimizer=tf.optimizers.Adam(), loss=loss_fn,
              metrics=[tf.keras.metrics.SparseCategoricalAccuracy()])
model.fit(X_train, y_train, epochs=5)
"""

_LAMBDA_P10 = P10.replace("tf.keras.layers.Dense(10)",
                          "tf.keras.layers.Dense(10),\n    tf.keras.layers.Lambda(lambda x: x)")

_CUSTOM_LOSS_P10 = """def my_loss(y_true, y_pred):
    return tf.keras.losses.sparse_categorical_crossentropy(y_true, y_pred, from_logits=True)
model = tf.keras.Sequential([tf.keras.layers.Dense(10)])
loss_fn = my_loss
model.compile(optimizer='adam', loss=loss_fn, metrics=['accuracy'])
model.fit(X_train, y_train, epochs=5)
"""

# Without a model to compare with, only the checks on the student's own arrays are decided.
_WITHOUT_MODEL = ("check_architecture", "check_loss", "check_training", "check_accuracy", "check_probability")

CASES: list[HostileCase] = [
    # A config that declares Dense(300000) (235 million weights): refused before Keras builds
    # it, with its reason, instead of a clean-process child allocating gigabytes. The checks on
    # the student's own arrays are still decided (against the grader's labels).
    HostileCase("c01_huge_declared_model", {**SOLUTION, "practice12": SOLUTION["practice12"] + _HUGE_CONFIG},
                expect(**{c: "model.too_large" for c in _WITHOUT_MODEL}), flagged=True),
    # A manifest that points outside the folder or at unknown files: nothing is read, nothing
    # verified, a TA looks at it.
    HostileCase("c02_manifest_absolute_path", {**SOLUTION, "practice12": SOLUTION["practice12"] + _manifest_edit(
        "manifest['model'] = '/etc/passwd'")}, everything("verification.failed"), flagged=True),
    HostileCase("c03_manifest_dotdot", {**SOLUTION, "practice12": SOLUTION["practice12"] + _manifest_edit(
        "manifest['arrays'].append('../../../../etc/hostname')")}, everything("verification.failed"), flagged=True),
    # A planted symlink is never followed: that one array is unreadable, the rest is graded.
    HostileCase("c04_symlinked_array", {**SOLUTION, "practice12": SOLUTION["practice12"] + _SYMLINK},
                expect(check_probability="input.unreadable"), flagged=True),
    # A Lambda layer is Python code: the model cannot be rebuilt without running it.
    HostileCase("c05_lambda_layer", {**SOLUTION, "practice10": _LAMBDA_P10},
                expect(**{c: "model.unsupported_component" for c in _WITHOUT_MODEL}), flagged=True),
    # The TF 2 tutorial's spelling: tf.nn.softmax output, string loss, probabilities from predict.
    HostileCase("c06_tutorial_tf_nn_softmax", {**SOLUTION, "practice10": _TUTORIAL_P10, "practice11": _TUTORIAL_P11},
                expect()),
    # Functional API, Activation(tf.nn.softmax), a loss function, a metric object, tf.optimizers.Adam().
    HostileCase("c07_functional_functions_objects", {**SOLUTION, "practice10": _FUNCTIONAL_P10,
                                                      "practice11": _TUTORIAL_P11}, expect()),
    # A custom loss function: only the loss check needs it; the other seven are decided.
    HostileCase("c08_custom_loss_function", {**SOLUTION, "practice10": _CUSTOM_LOSS_P10},
                expect(check_loss="model.compile_component_unreadable")),
]
