"""``nbgrader collect`` that never follows a link a student left in the exchange.

nbgrader's default collect copies each student's inbound folder with ``shutil.copytree``,
which follows links, as the instructor. A student can write into the exchange's ``inbound``
folder directly (it is world-writable so that ``nbgrader submit`` works), so an inbound
submission can hold a link to the instructor's source notebook, to ``gradebook.db``, to another
student's files or to ``/dev/zero``: collect then copies the instructor's files into
``submitted/`` (and from there into the student's feedback), or never ends.

:class:`CheckedCollect` (``c.ExchangeFactory.collect`` in ``nbgrader_config.py``) first copies
the inbound folder into a private folder with the checks of
:mod:`autograder.submission_folder` (no links, no special files, bounded size, each file
opened without following links), then lets nbgrader's own copy (its ``ignore``, ``include``
and size settings) run from that private copy, which no student can change meanwhile. A
refused submission is not collected; the log names it and the reason.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from nbgrader.exchange.default.collect import ExchangeCollect

from .submission_folder import FolderRefused, copy_accepted, inspect_folder


class CheckedCollect(ExchangeCollect):
    """nbgrader's collect, copying only checked submissions and never following links."""

    def do_copy(self, src: str, dest: str, log: object = None) -> None:
        private = Path(tempfile.mkdtemp(prefix="nn-autograder-collect-"))
        try:
            try:
                listing = inspect_folder(Path(src), None)
                copy_accepted(Path(src), listing, private / "submission")
            except FolderRefused as exc:
                self.log.error("Not collecting %s: %s. Ask the student to submit again without it.", src, exc)
                return
            super().do_copy(str(private / "submission"), dest, log)
        finally:
            shutil.rmtree(private, ignore_errors=True)
