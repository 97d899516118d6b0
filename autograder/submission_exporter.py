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

Before the submitted notebook is opened, its folder is checked
(:func:`autograder.submission_folder.inspect_folder`): a notebook that is a link (to the
instructor's source, say), a FIFO, or a folder holding links, special files or too much is
refused, so plain ``nbgrader autograde`` never grades it and never starts its kernel. nbgrader
has already copied the folder's other files into ``autograded/`` by then (it does so before any
hook runs); on the refusal it removes that folder again.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import IO, Any

from nbconvert.exporters import NotebookExporter

from .submission_folder import FolderRefused, inspect_folder
from .triage import REPAIRS_KEY, Unreadable, log_repairs, read_submission


class UnreadableSubmission(Exception):
    """The submitted file holds no notebook; the message names the file and the reason."""


class SalvagingExporter(NotebookExporter):
    """nbgrader's notebook exporter, reading damaged submissions through the triage."""

    def from_filename(self, filename: str, resources: dict[str, Any] | None = None,
                      **kw: Any) -> tuple[str, dict[str, Any]]:
        path = Path(filename)
        if self._is_submitted(path, resources):
            try:
                inspect_folder(path.parent, (path.stem,))
            except FolderRefused as exc:
                raise UnreadableSubmission(f"{path.name} cannot be graded: its folder is refused: {exc}") from None
        return super().from_filename(filename, resources=resources, **kw)

    def _is_submitted(self, path: Path, resources: dict[str, Any] | None) -> bool:
        """Whether ``path`` is in the student's submitted folder (not nbgrader's own autograded copy)."""
        coursedir = getattr(self.parent, "coursedir", None)
        info = (resources or {}).get("nbgrader", {})
        if coursedir is None or "student" not in info or "assignment" not in info:
            return True  # cannot tell: check, which costs nothing for a plain folder
        submitted = coursedir.format_path(coursedir.submitted_directory, info["student"], info["assignment"])
        return os.path.normpath(submitted) == os.path.normpath(path.parent)

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
