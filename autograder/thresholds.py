"""Accuracy pass marks, read from ``thresholds.json`` (written by ``python -m autograder.calibration``).

Kept apart from the calibration code so that grading never imports the training loop.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path

THRESHOLDS_FILE = Path(__file__).with_name("thresholds.json")


@lru_cache(maxsize=1)
def load_thresholds() -> dict:
    """The calibrated thresholds and how they were derived."""
    return json.loads(THRESHOLDS_FILE.read_text(encoding="utf-8"))


def accuracy_threshold(source: str, preprocessing: str) -> float:
    """Pass mark for test accuracy on data ``source`` ("full"/"sample"), inputs ``preprocessing`` ("raw"/"scaled")."""
    return float(load_thresholds()[source][preprocessing])


def _calibrated(source: str, preprocessing: str) -> dict:
    """The calibration statistics behind ``source``'s mark: its own if measured, else the sample's.

    An unmeasured "full" reuses the sample's pass marks (see ``calibration``), so it reuses the
    statistics they rest on as well.
    """
    stats = load_thresholds()["stats"]
    return stats[source if source in stats else "sample"][preprocessing]


def typical_accuracy(source: str, preprocessing: str) -> float:
    """The mean test accuracy of correct solutions in the calibration."""
    return float(_calibrated(source, preprocessing)["mean"])


def self_check_bar(source: str, preprocessing: str) -> float:
    """The self-check's accuracy bar: as far below the pass mark as the mark is below the mean.

    ``floor2(2 * threshold - mean)``: 0.85 for scaled and 0.75 for raw inputs on the sample
    (marks 0.870 and 0.800, means 0.888 and 0.842), about 10 and 8 standard deviations of
    correct solutions below their mean, so a correct answer practically never fails it, while
    the typical mistakes score far below it (an untrained model about 0.1, ``from_logits=False``
    0.36, one epoch 0.83, SGD 0.83). An accuracy between the bar and the mark passes the
    self-check and fails grading: that gap keeps the exact mark from being tuned to.
    """
    threshold = accuracy_threshold(source, preprocessing)
    bar = 2 * threshold - typical_accuracy(source, preprocessing)
    return math.floor(round(bar * 100, 6)) / 100
