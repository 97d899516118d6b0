"""What students and TAs read after grading: feedback pages, the class report and exports.

* ``outcomes`` - per student and check: points from the gradebook, the reason from the verdict.
* ``student``  - the nbgrader preprocessor behind ``nbgrader generate_feedback``'s pages.
* ``charts``   - matplotlib charts (with a Japanese font) embedded as PNG.
* ``report``   - the TA class report (``python -m autograder report``).
* ``exports``  - CSV and Gradescope JSON (``python -m autograder export``).

Everything here reads what nbgrader recorded; nothing re-grades.
"""

from __future__ import annotations

from pathlib import Path

# Jinja templates of the feedback page and the class report (package data).
TEMPLATE_DIR = Path(__file__).resolve().parents[1] / "templates"
