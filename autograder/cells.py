"""The one call that every autograder test cell makes.

A test cell reads::

    from autograder.cells import verify
    verify("check_architecture", globals())              # visible self-check
    ### BEGIN HIDDEN TESTS
    verify("check_architecture", globals(), hidden=True)  # full check, at grading time
    ### END HIDDEN TESTS

A failing check raises :class:`CheckFailed`, which IPython renders as the check's message and
hint only (via ``_render_traceback_``): nbgrader still sees an error and gives 0 points, and
the student reads two sentences instead of a traceback.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .checks import run_check
from .context import Context
from .crashes import kernel_errors
from .verdict import Verdict, verdict_bundle


class CheckFailed(AssertionError):
    """A failed check, displayed without a traceback."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines

    def _render_traceback_(self) -> list[str]:
        return self.lines


def verify(check_id: str, namespace: Mapping[str, Any], *, hidden: bool = False) -> None:
    """Run check ``check_id`` on the notebook's ``namespace``; raise :class:`CheckFailed` if it fails.

    The visible self-check and the hidden test run the same full check; the self-check only
    compares the test accuracy with a lower bar than the pass mark (see
    :func:`autograder.checks.check_accuracy`). The notebook's executed cell sources come from
    IPython's input history (``In``), so checks that read the student's code see exactly what
    ran, and IPython's record of the exceptions those cells raised lets a failure name its cause.
    """
    sources = namespace.get("In") or []
    ctx = Context(namespace, sources=sources, errors=kernel_errors(sources), self_check=not hidden)
    verdict = run_check(check_id, ctx)
    _publish(verdict, hidden)
    if not verdict.passed:
        raise CheckFailed(verdict.lines())
    print("\n".join(verdict.lines(self_check=not hidden)))


def _publish(verdict: Verdict, hidden: bool) -> None:
    """Attach the verdict to the cell's outputs as machine-readable data.

    Reports and the class statistics read mistake ids from here instead of parsing message
    text. :func:`~autograder.verdict.verdict_bundle` says why the output shows nothing in any
    front end.
    """
    from IPython.display import display

    display(verdict_bundle(verdict.to_json(hidden=hidden)), raw=True)
