"""The exporter nbgrader's ``autograde`` reads submissions with: damaged files are salvaged.

nbgrader reads each submitted notebook with ``nbformat.read`` inside its exporter. A file that
is not a valid notebook (a cell without ``source``, ``null`` metadata, ``"nbformat": 5``, a
stray ``null`` in the cell list) makes that read, or a later preprocessor, raise, and the
student gets no grade at all even though most of the answer is there. Configured as
``c.Autograde.exporter_class``, this exporter reads through
:func:`autograder.triage.read_submission` instead: a valid notebook is read exactly as before,
a damaged one is replaced by the cells that can be recovered (each repair is logged and handed
on to :class:`~autograder.preprocessors.RestoreCells`), and a file with nothing to recover
fails with one clear line instead of a JSON traceback.
"""

from __future__ import annotations

import io
from typing import IO, Any

from nbconvert.exporters import NotebookExporter

from .triage import REPAIRS_KEY, Unreadable, log_repairs, read_submission


class UnreadableSubmission(Exception):
    """The submitted file holds no notebook; the message names the file and the reason."""


class SalvagingExporter(NotebookExporter):
    """nbgrader's notebook exporter, reading damaged submissions through the triage."""

    def from_file(self, file_stream: IO[Any], resources: dict[str, Any] | None = None,
                  **kw: Any) -> tuple[str, dict[str, Any]]:
        binary = getattr(file_stream, "buffer", file_stream)  # nbconvert opens files in text mode
        if isinstance(binary, io.TextIOBase):
            binary = io.BytesIO(binary.read().encode("utf-8"))
        name = (resources or {}).get("metadata", {}).get("name", "notebook")
        try:
            nb, notes = read_submission(binary)
        except Unreadable as exc:
            raise UnreadableSubmission(f"{name}.ipynb cannot be graded: {exc}") from None
        resources = resources if resources is not None else {}
        log_repairs(self.log, resources.get("nbgrader", {}).get("student", "?"), notes)
        resources[REPAIRS_KEY] = notes  # RestoreCells records them in the notebook
        return self.from_notebook_node(nb, resources=resources, **kw)
