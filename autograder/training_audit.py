"""How long the model trained on the whole training set, from sources that can be cross-checked.

Keras keeps no trustworthy account of a ``fit``: the ``History`` object that records epochs and
steps lives in the student's kernel, where ``model.history.epoch = list(range(5))`` rewrites it.
check_training therefore decides from three sources the student cannot change with one line,
and reads the history only to cross-check them:

* the **optimizer's step counter** (``optimizer.iterations``, saved with the model): one step
  per batch, over every ``fit`` since the model was compiled;
* the notebook's **``fit`` calls**, read with ``ast`` (:func:`autograder.source_scan.fit_calls`):
  which data each call trains on, its batch size, epochs and steps per epoch;
* the **grader's own training set**: the number of rows, hence the number of batches one pass
  over all of ``X_train`` takes with the student's batch size.

Epochs are counted as passes over the whole training set: optimizer steps divided by the steps
of one pass. Two ``fit`` calls of 5 epochs give 10 (students re-run cells; more training is
fine), ``repeat(5)`` with ``epochs=1`` gives 5. Whenever the sources disagree in the direction
that would earn the point (the history or the counter claims more training than the notebook's
code can do), the check fails with a mistake listed in :data:`autograder.review.REVIEW_MISTAKES`
and the submission is flagged for a TA. A disagreement in the other direction (fewer steps than planned: a ``fit``
that crashed, was interrupted or stopped early) is simply believed: it can only cost the point.
"""

from __future__ import annotations

import math
from fractions import Fraction

from .model_facts import Training
from .source_scan import FitCall
from .verdict import Mistake

REQUIRED_EPOCHS = 5

def check_record(training: Training, record_write: str | None) -> None:
    """The history must be one Keras could have written, and the optimizer must back it."""
    if record_write is not None:
        raise Mistake("training.record_tampered", code=record_write)
    record = training.record
    problem = record.inconsistency()
    if problem is not None:
        raise Mistake("training.record_inconsistent", problem=problem)
    if record.steps is not None and record.epochs_run * record.steps > training.iterations:
        raise Mistake("training.history_exceeds_optimizer", epochs=record.epochs_run,
                      steps=record.steps, iterations=training.iterations)


def _part_mistake(fit: FitCall) -> Mistake:
    """Why a fit on a part of X_train (or on the test set) does not count as training on the set."""
    if fit.origin == "test":
        return Mistake("training.fit_on_test_set", code=fit.data)
    if fit.epoch_steps is not None and fit.full_pass_steps is not None:
        return Mistake("training.partial_training_set", steps=fit.epoch_steps, expected=fit.full_pass_steps)
    return Mistake("training.subset_in_source", code=fit.data)


def _is_part(fit: FitCall) -> bool:
    return fit.subset or fit.origin == "test"


def _check_full_fit(fit: FitCall) -> None:
    """A fit on all of X_train must take passes the grader can count, each a whole pass."""
    if fit.full_pass_steps is None:
        raise Mistake("training.fit_unreadable", code=fit.code)
    if fit.epoch_steps is not None and fit.epoch_steps < fit.full_pass_steps:
        # steps_per_epoch too small, or a pipeline that yields fewer batches than the set has
        raise Mistake("training.partial_training_set", steps=fit.epoch_steps, expected=fit.full_pass_steps)


def _check_history_against_source(training: Training, fits: list[FitCall]) -> None:
    """The history's last fit against the notebook's last fit (and every fit's epochs)."""
    record, last = training.record, fits[-1]
    readable_epochs = [f.epochs for f in fits if f.epochs is not None]
    if len(readable_epochs) == len(fits) and record.epochs_run > max(readable_epochs):
        raise Mistake("training.history_exceeds_source", recorded=record.epochs_run, planned=max(readable_epochs))
    # Batches per epoch the last fit takes: known from the source, or (for data the scan cannot
    # follow, e.g. a permuted X_train) one pass over the whole set at its batch size.
    expected = last.epoch_steps if last.epoch_steps is not None else last.full_pass_steps
    if record.steps is None or expected is None:
        return
    if record.steps < expected:
        # Keras took fewer batches than a whole pass: the data was smaller than the source
        # suggests (believed: a record understated only costs the student).
        raise Mistake("training.partial_training_set", steps=record.steps,
                      expected=last.full_pass_steps or expected)
    if record.steps > expected:
        raise Mistake("training.history_steps_exceed_source", steps=record.steps, expected=expected)


def _planned_steps(fits: list[FitCall]) -> int | None:
    """The optimizer steps these calls take at most, or ``None`` when the source cannot bound them."""
    total = 0
    for fit in fits:
        if fit.repeated or fit.epochs is None or fit.epoch_steps is None:
            return None
        total += fit.epochs * fit.epoch_steps
    return total


def full_passes(training: Training, fits: list[FitCall]) -> int | None:
    """Passes over the whole training set: optimizer steps / steps of one pass.

    With every ``fit`` readable (literal epochs and steps, outside loops and functions) the
    notebook's plan bounds the optimizer's steps; a counter above it was changed (or trained by
    code the grader cannot see). A counter equal to the plan is counted fit by fit, so calls
    with different batch sizes add their own passes and a fit on a part of the set adds none.
    Below the plan (a crash, an interruption, EarlyStopping) the steps are counted
    conservatively, at the largest pass of any call, after taking off every step a fit on a
    part could have used, so a student never gains from what the grader cannot see. ``None``:
    fits on a part whose steps the source does not bound, so nothing can be counted.
    """
    planned = _planned_steps(fits)
    if planned is not None and training.iterations > planned:
        raise Mistake("training.optimizer_exceeds_source", iterations=training.iterations, planned=planned)
    full = [f for f in fits if not _is_part(f)]
    parts = [f for f in fits if _is_part(f)]
    if planned is not None and training.iterations == planned:
        return math.floor(sum(Fraction(f.epochs * f.epoch_steps, f.full_pass_steps) for f in full))
    spent_on_parts = _planned_steps(parts)
    if spent_on_parts is None:
        return None
    steps = max(training.iterations - spent_on_parts, 0)
    return math.floor(Fraction(steps, max(f.full_pass_steps for f in full)))


def epochs_trained(training: Training, fits: list[FitCall], record_write: str | None) -> int:
    """Passes over all of X_train, or the :class:`Mistake` that says why they cannot be counted.

    A fit on a part of X_train (a smoke test on 100 rows, a fine-tuning on a slice) is not a
    mistake by itself: the passes over the whole set are what count. A fit on the test set is
    always one (the test accuracy then measures memory, not learning).
    """
    check_record(training, record_write)
    if not fits:
        raise Mistake("training.fit_not_found")
    for fit in fits:
        if fit.origin == "test":
            raise _part_mistake(fit)
    full = [f for f in fits if not _is_part(f)]
    if not full:
        raise _part_mistake(fits[-1])
    for fit in full:
        _check_full_fit(fit)
    _check_history_against_source(training, fits)
    passes = full_passes(training, fits)
    parts = [f for f in fits if _is_part(f)]
    if passes is None or (passes < REQUIRED_EPOCHS and parts):
        raise _part_mistake(parts[-1])
    if passes < REQUIRED_EPOCHS:
        planned = sum(f.epochs or 0 for f in full)
        if planned >= REQUIRED_EPOCHS and any(f.may_stop_early for f in full):
            raise Mistake("training.stopped_early", epochs=passes, planned=planned)
        raise Mistake("training.too_few_epochs", epochs=passes)
    return passes
