"""The assignment's public interface: its name, solution cells and graded check cells.

Instructors' tools and external tests rely on these ids. This module imports nothing heavy, so
command-line tools can use it without loading TensorFlow.
"""

from __future__ import annotations

ASSIGNMENT = "nn_basics"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"

# Solution cells (grade_id) and the names each must define.
SOLUTION_CELLS: dict[str, tuple[str, ...]] = {
    "practice10": ("model", "loss_fn"),
    "practice11": ("predictions", "probability", "first_label"),
    "practice12": ("y_predict", "accuracy", "eval_loss", "eval_accuracy"),
}

# Autograder test cells (grade_id) and their points, in notebook order.
CHECK_POINTS: dict[str, int] = {
    "check_architecture": 2,
    "check_loss": 2,
    "check_training": 2,
    "check_accuracy": 2,
    "check_probability": 2,
    "check_first_label": 1,
    "check_argmax_axis": 2,
    "check_accuracy_score": 2,
}
