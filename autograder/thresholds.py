"""Accuracy pass marks, read from ``thresholds.json`` (written by ``python -m autograder.calibration``).

Kept apart from the calibration code so that grading never imports the training loop.
"""

from __future__ import annotations

import json
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
