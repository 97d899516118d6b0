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


def _check_data(fit: FitCall) -> None:
    """Each ``fit`` trains on all of X_train, in passes the grader can count."""
    if fit.origin == "test":
        raise Mistake("training.fit_on_test_set", code=fit.data)
    if fit.subset:
        if fit.epoch_steps is not None and fit.full_pass_steps is not None:
            raise Mistake("training.partial_training_set", steps=fit.epoch_steps, expected=fit.full_pass_steps)
        raise Mistake("training.subset_in_source", code=fit.data)
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
        raise Mistake("training.partial_training_set", steps=record.steps, expected=expected)
    if record.steps > expected:
        raise Mistake("training.history_steps_exceed_source", steps=record.steps, expected=expected)


def full_passes(training: Training, fits: list[FitCall]) -> int:
    """Passes over the whole training set: optimizer steps / steps of one pass.

    With every ``fit`` readable (literal epochs and steps, outside loops and functions) the
    notebook's plan gives an upper bound on the optimizer's steps; a counter above it was
    changed (or trained by code the grader cannot see). A counter equal to the plan is
    counted fit by fit (``fit`` calls with different batch sizes add their own passes). Below
    the plan (a crash, an interruption, EarlyStopping) the steps are counted conservatively at
    the largest pass of any call, so a student never gains from what the grader cannot see.
    """
    planned: int | None = 0
    for fit in fits:
        if planned is None or fit.repeated or fit.epochs is None or fit.epoch_steps is None:
            planned = None
        else:
            planned += fit.epochs * fit.epoch_steps
    if planned is not None and training.iterations > planned:
        raise Mistake("training.optimizer_exceeds_source", iterations=training.iterations, planned=planned)
    if planned is not None and training.iterations == planned:
        passes = sum(Fraction(f.epochs * f.epoch_steps, f.full_pass_steps) for f in fits)
    else:
        passes = Fraction(training.iterations, max(f.full_pass_steps for f in fits))
    return math.floor(passes)


def epochs_trained(training: Training, fits: list[FitCall], record_write: str | None) -> int:
    """Passes over all of X_train, or the :class:`Mistake` that says why they cannot be counted."""
    check_record(training, record_write)
    if not fits:
        raise Mistake("training.fit_not_found")
    for fit in fits:
        _check_data(fit)
    _check_history_against_source(training, fits)
    passes = full_passes(training, fits)
    if passes < REQUIRED_EPOCHS:
        planned = sum(f.epochs or 0 for f in fits)
        if planned >= REQUIRED_EPOCHS and any(f.may_stop_early for f in fits):
            raise Mistake("training.stopped_early", epochs=passes, planned=planned)
        raise Mistake("training.too_few_epochs", epochs=passes)
    return passes
