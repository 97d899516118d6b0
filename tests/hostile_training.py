"""Self-reported training facts: forged history, steps and optimizer counter; real-world fit styles.

check_training counts the training from the optimizer's step counter, the notebook's ``fit``
calls and the grader's own training-set size (``autograder.training_audit``); ``model.history``
is only cross-checked. A forged record fails the check with a review mistake
(``autograder.review``), whether the forgery is written plainly (named from the source) or
hidden in a string (caught by the cross-checks), and the submission is flagged. Honest fit
styles that Keras accepts (tf.data with its own batch size, validation data, two fits,
class weights) get full credit.

Accuracies on the offline sample with the notebook's seed (pass mark 0.87): 4 epochs at batch
16 reach about 0.89, 5 epochs on 2 000 rows about 0.86, an EarlyStopping run stopped after 2
epochs about 0.86, tf.data at batch 64 for 10 epochs about 0.89; every honest variant here
about 0.89.
"""

from __future__ import annotations

from hostile_kit import SOLUTION, HostileCase, expect
from autograder.sample_class import variant

FIT = "model.fit(X_train, y_train, epochs=5)"
FOUR_EPOCHS = "model.fit(X_train, y_train, epochs=4, batch_size=16)"  # 4 x 250 = 1 000 optimizer steps
SUBSET = "model.fit(X_train[:2000], y_train[:2000], epochs=5)"      # 5 x 63 = 315 steps, not 5 x 125
# The history of 4 epochs made to look like 5, consistently: epochs, logged values, params.
HISTORY_OF_FIVE = ("model.history.epoch = list(range(5))\n"
                   "model.history.history = {k: v + v[-1:] for k, v in model.history.history.items()}\n"
                   "model.history.params['epochs'] = 5")


def _fit(code: str) -> dict[str, str]:
    return variant(SOLUTION, "practice10", FIT, code)


def _hidden(code: str) -> str:
    """``code`` run from a string, so that reading the cell's source does not show it."""
    return f"exec({code!r})"


CASES: list[HostileCase] = [
    # Forged history, written plainly: the source names the rewrite.
    HostileCase("t01_history_epoch_spoof", _fit(FOUR_EPOCHS + "\nmodel.history.epoch = list(range(5))"),
                expect(check_training="training.record_tampered"), flagged=True),
    # The same from a string: 5 epoch indices but 4 logged losses is no record Keras writes.
    HostileCase("t02_history_epoch_spoof_hidden", _fit(FOUR_EPOCHS + "\n" + _hidden("model.history.epoch = list(range(5))")),
                expect(check_training="training.record_inconsistent"), flagged=True),
    # 2 000 rows with the steps of the whole set claimed: the source shows the rewrite...
    HostileCase("t03_params_steps_spoof", _fit(SUBSET + "\nmodel.history.params['steps'] = 125"),
                expect(check_training="training.record_tampered", check_accuracy="accuracy.below_threshold"),
                flagged=True),
    # ... and hidden, 5 epochs of 125 steps need 625 optimizer steps, not 315.
    HostileCase("t04_params_steps_spoof_hidden", _fit(SUBSET + "\n" + _hidden("model.history.params['steps'] = 125")),
                expect(check_training="training.history_exceeds_optimizer", check_accuracy="accuracy.below_threshold"),
                flagged=True),
    # The optimizer's counter pushed to 5 epochs' worth (1 250 steps at batch 16).
    HostileCase("t05_iterations_spoof", _fit(FOUR_EPOCHS + "\nmodel.optimizer.iterations.assign(1250)"),
                expect(check_training="training.record_tampered"), flagged=True),
    HostileCase("t06_iterations_spoof_hidden", _fit(FOUR_EPOCHS + "\n" + _hidden("model.optimizer.iterations.assign(1250)")),
                expect(check_training="training.optimizer_exceeds_source"), flagged=True),
    # History and counter both forged, consistently with each other: the fit call says 4 epochs.
    HostileCase("t07_history_and_iterations_spoof_hidden", _fit(
        FOUR_EPOCHS + "\n" + _hidden(HISTORY_OF_FIVE + "\nmodel.optimizer.iterations.assign(1250)")),
                expect(check_training="training.history_exceeds_source"), flagged=True),
    # Trained from a string: no fit call the grader can read.
    HostileCase("t08_fit_hidden", _fit(_hidden(FIT)), expect(check_training="training.fit_not_found"), flagged=True),
    # Real-world fit styles, all correct.
    HostileCase("t09_tf_data_batch64", _fit(
        "train_ds = tf.data.Dataset.from_tensor_slices((X_train, y_train)).shuffle(4000).batch(64)\n"
        "model.fit(train_ds, epochs=10)"), expect()),
    HostileCase("t10_validation_data", _fit("model.fit(X_train, y_train, epochs=5, validation_data=(X_test, y_test))"),
                expect()),
    HostileCase("t11_fit_twice", _fit("model.fit(X_train, y_train, epochs=3)\nmodel.fit(X_train, y_train, epochs=3)"),
                expect()),
    HostileCase("t12_class_weight_shuffle", _fit(
        "model.fit(X_train, y_train, epochs=6, batch_size=32, shuffle=True,\n"
        "          class_weight={k: 1.0 for k in range(10)})"), expect()),
    # EarlyStopping that stops after 2 of 30 epochs: too little training, and the message says why.
    HostileCase("t13_early_stopping", _fit(
        "stop = tf.keras.callbacks.EarlyStopping(monitor='val_loss', patience=0, min_delta=0.5)\n"
        "model.fit(X_train, y_train, epochs=30, validation_split=0.1, callbacks=[stop])"),
                expect(check_training="training.stopped_early", check_accuracy="accuracy.below_threshold")),
]
