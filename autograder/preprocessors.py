"""nbgrader preprocessors that make the verdict trustworthy, chained in ``nbgrader_config.py``.

Student code runs in the same kernel as the test cells, so one line can patch a check, NumPy
or IPython's traceback display and turn failures into passes. The autograde pipeline becomes::

    InjectCapture -> SurvivingExecute -> IgnorePattern -> CleanProcessVerdict -> ... -> SaveAutoGrades -> FlagForReview

* :class:`InjectCapture` appends one cell that saves the model and arrays into a private
  directory whose name the student's code cannot know (it is created after their code ran).
* :class:`CleanProcessVerdict` removes that cell, re-runs every check in a fresh process
  (:mod:`autograder.clean_process`) and rewrites each test cell's outputs to the clean verdict
  wherever the kernel's differs, so nbgrader's own scoring (error output = 0 points) follows
  the clean verdict. Disagreements are recorded as tampering.
* :class:`FlagForReview` sets nbgrader's ``flagged`` mark on the submission in the gradebook
  when the verdicts disagreed or could not be verified.
"""

from __future__ import annotations

import atexit
from dataclasses import replace
import json
import selectors
import shutil
import subprocess
import sys
from pathlib import Path

from nbconvert.exporters.exporter import ResourcesDict
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_output
from nbclient.exceptions import DeadKernelError
import nbformat
from nbgrader.api import Gradebook
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from traitlets import Integer

from .artifacts import MANIFEST
from .course import cell_verdicts
from .crashes import cell_errors
from .sandbox import prepare_artifact_dir
from .triage import REPAIRS_KEY, log_repairs, restore_cells
from .verdict import VERDICT_MIME, Verdict

CAPTURE_MARK = "autograder_capture"
ARTIFACTS_KEY = "autograder_artifacts"
REVIEW_KEY = "autograder_review"
OVERRIDDEN_NOTE = "verdict.overridden"  # note on a verdict where the kernel's disagreed


class RestoreCells(NbGraderPreprocessor):
    """Sanitize step: every test and locked cell of the release present once, in order.

    nbgrader's OverwriteCells restores the content of locked cells the student edited, but a
    deleted test cell simply never runs, and a duplicated one confuses the grade. This step,
    placed before nbgrader's own sanitize steps, puts the release's cells back (see
    :func:`autograder.triage.restore_cells`); what it repaired is logged. Every repair, the
    exporter's included, is recorded in the notebook's metadata for the student's feedback
    page; a value the student put there is dropped.
    """

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict) -> tuple[NotebookNode, ResourcesDict]:
        info = resources["nbgrader"]
        repairs = list(resources.get(REPAIRS_KEY, []))
        nb.metadata.pop(REPAIRS_KEY, None)
        coursedir = CourseDirectory(config=self.config)
        release = Path(coursedir.format_path(coursedir.release_directory, ".", info["assignment"])) \
            / f"{info['notebook']}.ipynb"
        if release.exists():
            nb, notes = restore_cells(nb, nbformat.read(release, as_version=4))
            log_repairs(self.log, info["student"], notes)
            repairs += notes
        else:
            self.log.warning("No release notebook at %s: test cells are not restored", release)
        if repairs:
            nb.metadata[REPAIRS_KEY] = [r.to_json() for r in repairs]
        return nb, resources


class InjectCapture(NbGraderPreprocessor):
    """Append the capture cell; it runs after every student cell, in the same kernel."""

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict) -> tuple[NotebookNode, ResourcesDict]:
        directory = prepare_artifact_dir()  # mode 0700, unpredictable name; the sandboxed kernel may write it
        resources[ARTIFACTS_KEY] = directory
        _server()  # start (or reuse) the clean-process server now: it warms up while the kernel runs
        cell = new_code_cell(
            f"__import__('autograder.artifacts').artifacts.save_artifacts(globals(), {directory!r})")
        cell.metadata[CAPTURE_MARK] = True
        nb.cells.append(cell)
        return nb, resources


class SurvivingExecute(Execute):
    """nbgrader's Execute, except that a dead kernel ends the run instead of the whole grading.

    ``os._exit()`` or a killed kernel makes plain nbgrader abort the submission with no grade
    at all. Here the cell that killed the kernel gets an error output and later cells are not
    run; the capture cell never runs either, so :class:`CleanProcessVerdict` fails every test
    cell closed with a clear reason (a student cannot keep passes faked before the kernel died).
    """

    _kernel_dead = False

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict, km=None) -> tuple[NotebookNode, ResourcesDict]:
        self._kernel_dead = False
        return super().preprocess(nb, resources, km)

    def preprocess_cell(self, cell: NotebookNode, resources: ResourcesDict, index: int):
        if self._kernel_dead:
            return cell, resources
        try:
            return super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            self._kernel_dead = True
            self.log.warning("The kernel died while running cell %d", index)
            cell.outputs.append(new_output("error", ename="DeadKernelError", evalue="Kernel died",
                                           traceback=["DeadKernelError: the kernel died while running this cell"]))
            return cell, resources


class CleanProcessError(Exception):
    """The clean process could not produce verdicts; ``mistake_id`` tells the student why."""

    def __init__(self, mistake_id: str, detail: str) -> None:
        super().__init__(detail)
        self.mistake_id = mistake_id


def _kernel_passed(cell: NotebookNode) -> bool:
    """nbgrader's rule: a test cell scores 0 on any error output or stderr text."""
    return not any(o.output_type == "error" or (o.output_type == "stream" and o.name == "stderr")
                   for o in cell.outputs)


def _outputs(verdict: Verdict) -> list[NotebookNode]:
    lines = verdict.lines()
    data = new_output("display_data", data={VERDICT_MIME: verdict.to_json(hidden=True, clean=True)})
    if verdict.passed:
        return [data, new_output("stream", name="stdout", text="\n".join(lines) + "\n")]
    return [data, new_output("error", ename="CheckFailed", evalue="\n".join(lines), traceback=lines)]


class CleanProcessVerdict(NbGraderPreprocessor):
    """Replace the kernel's verdict by the clean process's in every test cell."""

    timeout = Integer(600, help="Seconds the clean process may take for one notebook").tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict) -> tuple[NotebookNode, ResourcesDict]:
        directory = Path(resources.pop(ARTIFACTS_KEY))
        nb.cells = [c for c in nb.cells if not c.metadata.get(CAPTURE_MARK)]
        code_cells = [c for c in nb.cells if c.cell_type == "code"]
        sources = [c.source for c in code_cells]
        errors = cell_errors(code_cells)  # for messages only: which answer cell raised what
        try:
            verdicts, problem = self._run(directory, sources, errors), None
        except CleanProcessError as exc:
            verdicts, problem = None, exc
            self.log.error("No clean-process verdict: %s", exc)
        finally:
            shutil.rmtree(directory, ignore_errors=True)
        disagreements = []
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if not (meta.get("grade") and cell.cell_type == "code"):
                continue
            grade_id = meta["grade_id"]
            clean = (Verdict.from_json(verdicts[grade_id]) if verdicts is not None
                     else Verdict(grade_id, False, problem.mistake_id))
            kernel = cell_verdicts(cell)
            disagrees = _kernel_passed(cell) != clean.passed
            if disagrees:
                disagreements.append(grade_id)
            if disagrees and verdicts is not None:  # the student and the TA both read why
                clean = replace(clean, notes=(*clean.notes, OVERRIDDEN_NOTE))
            if disagrees or not kernel or kernel[-1].mistake_id != clean.mistake_id:
                cell.outputs = _outputs(clean)
        resources[REVIEW_KEY] = {"verified": verdicts is not None,
                                 "tampered": disagreements if verdicts is not None else [],
                                 "problem": str(problem) if problem else None}
        if disagreements:
            self.log.warning("Kernel and clean-process verdicts disagree on %s", ", ".join(disagreements))
        return nb, resources

    def _run(self, directory: Path, sources: list[str], errors: list[dict | None]) -> dict[str, dict]:
        if not (directory / MANIFEST).exists():
            raise CleanProcessError("verification.notebook_stopped", "no artifacts: the kernel stopped early")
        answer = _server().ask({"artifacts": str(directory), "sources": sources, "errors": errors},
                               self.timeout)
        if "verdicts" not in answer:
            raise CleanProcessError("verification.failed", answer.get("error", "no answer"))
        return answer["verdicts"]


class _VerdictServer:
    """Client of ``python -I -m autograder.clean_process``, started once per grading process.

    A long-lived grader (``nbgrader autograde`` over a class, or a bulk-grading worker) pays
    the server's start-up once; every notebook is then checked in a freshly forked child.
    """

    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-I", "-m", "autograder.clean_process"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        atexit.register(self.close)

    def ask(self, request: dict, timeout: float) -> dict:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        try:
            self.proc.stdin.write(json.dumps(request) + "\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            return {"error": "the clean-process server is not running"}
        while True:
            line = self._readline(timeout)
            if line is None:
                self.close()
                return {"error": f"no answer within {timeout} s"}
            answer = json.loads(line)
            if not answer.get("ready"):
                return answer

    def _readline(self, timeout: float) -> str | None:
        assert self.proc.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            if not sel.select(timeout):
                return None
        return self.proc.stdout.readline() or None

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        if self.alive():
            self.proc.kill()
            self.proc.wait()


_SERVER: _VerdictServer | None = None


def _server() -> _VerdictServer:
    global _SERVER
    if _SERVER is None or not _SERVER.alive():
        _SERVER = _VerdictServer()
    return _SERVER


class FlagForReview(NbGraderPreprocessor):
    """Mark the submission ``flagged`` in the gradebook when its verdict needs a human look."""

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict) -> tuple[NotebookNode, ResourcesDict]:
        review = resources.get(REVIEW_KEY, {})
        if review.get("tampered") or not review.get("verified", True):
            info = resources["nbgrader"]
            with Gradebook(info["db_url"]) as gb:
                notebook = gb.find_submission_notebook(info["notebook"], info["assignment"], info["student"])
                notebook.flagged = True
                gb.db.commit()
        return nb, resources
