"""nbgrader preprocessors that make the verdict trustworthy, chained in ``nbgrader_config.py``.

Student code runs in the same kernel as the test cells, so one line can patch a check, NumPy
or IPython's traceback display and turn failures into passes. The autograde pipeline becomes::

    InjectCapture -> SurvivingExecute -> IgnorePattern -> CleanProcessVerdict -> ... -> SaveAutoGrades -> FlagForReview

* :class:`InjectCapture` appends one cell that saves the model and arrays into a private
  directory whose name the student's code cannot know (it is created after their code ran).
* :class:`CleanProcessVerdict` removes that cell, re-runs every check in a fresh process
  (:mod:`autograder.clean_process`) and replaces every test cell's outputs by the clean
  verdict's, so nbgrader's own scoring (error output = 0 points, an ``execute_result`` = partial
  credit) sees only what the grader wrote. A kernel whose pass/fail disagreed, or which wrote
  anything into a test cell beyond what the check publishes, is recorded for review.
* :class:`RestoreCells` (a sanitize step) takes every release cell's type and metadata from the
  release, so flipped nbgrader flags, points and checksums neither stop nbgrader nor earn points.
* :class:`FlagForReview` sets nbgrader's ``flagged`` mark on the submission in the gradebook
  when the verdicts disagreed or could not be verified.
"""

from __future__ import annotations

import atexit
from dataclasses import replace
import json
import secrets
import selectors
import shutil
import subprocess
import sys
from collections.abc import Mapping
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
from .cell_transcript import foreign_outputs, shown_self_check
from .crashes import cell_errors
from .sandbox import prepare_artifact_dir
from .triage import REPAIRS_KEY, log_repairs, restore_cells
from .review import needs_review
from .verdict import Verdict, verdict_bundle

CAPTURE_MARK = "autograder_capture"
ARTIFACTS_KEY = "autograder_artifacts"
REVIEW_KEY = "autograder_review"
WITHOUT_MODEL_NOTE = "verdict.without_model"  # see autograder.checks: decided without the model
OVERRIDDEN_NOTE = "verdict.overridden"  # note on a verdict where the kernel's disagreed
FOREIGN_OUTPUT_NOTE = "verdict.foreign_output"  # note where the kernel wrote outputs the check did not
SHOWN_SELF_CHECK = "self_check_shown"  # cell metadata["autograder"]: what the kernel's self-check said


class RestoreCells(NbGraderPreprocessor):
    """Sanitize step: every test and locked cell of the release present once, in order.

    nbgrader's OverwriteCells restores the content of locked cells the student edited, but a
    deleted test cell simply never runs, and a duplicated one confuses the grade. This step,
    placed before nbgrader's own sanitize steps, puts the release's cells back (see
    :func:`autograder.triage.restore_cells`), each with the release's type and metadata (nbgrader
    trusts a cell's own ``points``, flags and checksum); what it repaired is logged. Every repair, the
    exporter's included, is recorded in the notebook's metadata for the student's feedback
    page; a value the student put there is dropped.
    """

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict) -> tuple[NotebookNode, ResourcesDict]:
        info = resources["nbgrader"]
        repairs = list(resources.get(REPAIRS_KEY, []))
        nb.metadata.pop(REPAIRS_KEY, None)
        nb.metadata.pop(REVIEW_KEY, None)
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
        _server(self.config)  # start (or reuse) the clean-process server now: it warms up while the kernel runs
        cell = new_code_cell(
            f"__import__('autograder.artifacts').artifacts.save_artifacts(globals(), {directory!r})")
        # The mark is a secret of this run: a student's cell that carries the key is not taken
        # for the capture cell (removing it would hide its source from the clean process).
        cell.metadata[CAPTURE_MARK] = resources[CAPTURE_MARK] = secrets.token_hex(16)
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


def _clean_verdict(grade_id: str, verdicts: Mapping[str, dict] | None, problem: CleanProcessError | None) -> Verdict:
    """The clean process's verdict for a test cell; a failure, with the reason, when there is none."""
    if verdicts is None:
        assert problem is not None
        return Verdict(grade_id, False, problem.mistake_id)
    if grade_id not in verdicts:  # the clean process knows every check; fail closed if not
        return Verdict(grade_id, False, "verification.failed")
    return Verdict.from_json(verdicts[grade_id])


def _outputs(verdict: Verdict) -> list[NotebookNode]:
    """The whole output of a test cell after grading: the verdict's data and its message.

    The only place that writes a graded cell's outputs, so nbgrader's score for the cell (error
    output: 0, else full points) follows ``verdict.passed`` and nothing else.
    """
    lines = verdict.lines()
    data = new_output("display_data", data=verdict_bundle(verdict.to_json(hidden=True, clean=True)))
    if verdict.passed:
        return [data, new_output("stream", name="stdout", text="\n".join(lines) + "\n")]
    return [data, new_output("error", ename="CheckFailed", evalue="\n".join(lines), traceback=lines)]


class CleanProcessVerdict(NbGraderPreprocessor):
    """Replace every test cell's outputs by the clean process's verdict; record what was forged.

    The outputs of a grade cell are afterwards exactly :func:`_outputs` of the clean verdict, for
    passes and failures alike: nbgrader's ``determine_grade`` then gives the cell's full points
    or zero as the clean verdict says, and no ``execute_result`` (partial credit), stream or
    error the kernel wrote can reach it. Two findings are recorded for review
    (:data:`REVIEW_KEY`): the kernel's own pass/fail disagreed with the clean verdict
    (``tampered``), or the kernel wrote anything into the cell beyond what the check's
    ``verify`` calls publish (``foreign_outputs``, see :mod:`autograder.cell_transcript`).
    What the student's self-check showed, when the cell is otherwise honest, stays in the cell's
    metadata (:data:`SHOWN_SELF_CHECK`) so a TA can compare it with the grade.
    """

    timeout = Integer(600, help="Seconds the clean process may take for one notebook").tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict) -> tuple[NotebookNode, ResourcesDict]:
        directory = Path(resources.pop(ARTIFACTS_KEY))
        mark = resources.pop(CAPTURE_MARK, None)
        nb.cells = [c for c in nb.cells if mark is None or c.metadata.get(CAPTURE_MARK) != mark]
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
        disagreements: list[str] = []
        foreign: dict[str, list[str]] = {}
        self_reported: dict[str, str] = {}  # a self-reported fact contradicted (autograder.review)
        without_model: list[str] = []  # decided on the student's arrays alone (model unreadable)
        # The capture cell never ran: the kernel died (SurvivingExecute) or stopped early.
        stopped = problem is not None and problem.mistake_id == "verification.notebook_stopped"
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if not (meta.get("grade") and cell.cell_type == "code"):
                continue
            grade_id = meta["grade_id"]
            clean = _clean_verdict(grade_id, verdicts, problem)
            if verdicts is not None and needs_review(clean.mistake_id):
                self_reported[grade_id] = str(clean.mistake_id)
            if verdicts is not None and WITHOUT_MODEL_NOTE in clean.notes:
                without_model.append(grade_id)
            found = foreign_outputs(cell.outputs, grade_id, cell.source, kernel_died=stopped)
            if found:
                foreign[grade_id] = found
            shown = None if found else shown_self_check(cell.outputs, grade_id)
            if shown is not None:  # for the TA's record only: outputs and points are the clean verdict's
                cell.metadata.setdefault("autograder", {})[SHOWN_SELF_CHECK] = shown.to_json()
            disagrees = _kernel_passed(cell) != clean.passed
            if disagrees:
                disagreements.append(grade_id)
            if verdicts is not None and (disagrees or found):  # the student and the TA both read why
                note = OVERRIDDEN_NOTE if disagrees else FOREIGN_OUTPUT_NOTE
                clean = replace(clean, notes=(*clean.notes, note))
            cell.outputs = _outputs(clean)
        resources[REVIEW_KEY] = {"verified": verdicts is not None,
                                 "tampered": disagreements if verdicts is not None else [],
                                 "foreign_outputs": foreign,
                                 "self_reported": self_reported,
                                 "without_model": without_model,
                                 "problem": str(problem) if problem else None}
        if disagreements:
            self.log.warning("Kernel and clean-process verdicts disagree on %s", ", ".join(disagreements))
        for grade_id, found in foreign.items():
            self.log.warning("Test cell %s: the kernel wrote outputs the check did not: %s",
                             grade_id, "; ".join(found))
        return nb, resources

    def _run(self, directory: Path, sources: list[str], errors: list[dict | None]) -> dict[str, dict]:
        if not (directory / MANIFEST).exists():
            raise CleanProcessError("verification.notebook_stopped", "no artifacts: the kernel stopped early")
        answer = _server().ask({"artifacts": str(directory), "sources": sources, "errors": errors},
                               self.timeout)
        if "verdicts" not in answer:
            raise CleanProcessError("verification.failed", answer.get("error", "no answer"))
        return answer["verdicts"]


# --- the clean-process server and its confinement (owned with autograder/sandbox/clean_box.py) ---


class _VerdictServer:
    """Client of ``python -I -m autograder.clean_process``, started once per grading process.

    A long-lived grader (``nbgrader autograde`` over a class, or a bulk-grading worker) pays
    the server's start-up once; every notebook is then checked in a freshly forked child,
    confined like the grading kernel (``c.Sandbox``; see :mod:`autograder.sandbox.clean_box`):
    each request gets its own uid, cgroups and launch plan, which the child applies before it
    reads the artifacts, and which are torn down when it has answered.
    """

    def __init__(self, config=None) -> None:
        from .sandbox.manager import Sandbox

        self.settings = Sandbox(config=config) if config is not None else Sandbox()
        self.warned = False
        self.proc = subprocess.Popen([sys.executable, "-I", "-m", "autograder.clean_process"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        atexit.register(self.close)

    def ask(self, request: dict, timeout: float) -> dict:
        box = None
        if self.settings.enabled:
            from .sandbox.clean_box import CleanBox

            box = CleanBox(self.settings, self.settings.log)  # may refuse: c.Sandbox.required
        elif not self.warned:
            self.warned = True
            self.settings.log.warning("The clean process is not confined (c.Sandbox.enabled = False)")
        try:
            limit = min(timeout, self.settings.clean_time_limit or timeout)
            request = {**request, "time_limit": limit}
            if box is not None:
                box.hand_over(Path(request["artifacts"]))
                request.update(plan=box.plan, env=box.env, data_budget=box.data_budget)
            answer = self._exchange(request, limit + 60)  # the server kills the child at ``limit``
            if "error" in answer and box is not None and box.memory_note():
                answer["error"] += f": {box.memory_note()}"
            return answer
        finally:
            if box is not None:
                box.close()

    def _exchange(self, request: dict, timeout: float) -> dict:
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
_SERVER_CONFIG = None  # the configuration of the last preprocessor that asked for the server


def _server(config=None) -> _VerdictServer:
    global _SERVER, _SERVER_CONFIG
    if config is not None:
        _SERVER_CONFIG = config
    if _SERVER is None or not _SERVER.alive():
        _SERVER = _VerdictServer(_SERVER_CONFIG)
    elif config is not None:  # same server, this notebook's settings
        from .sandbox.manager import Sandbox

        _SERVER.settings = Sandbox(config=config)
    return _SERVER


# --- end of the clean-process server ---


class FlagForReview(NbGraderPreprocessor):
    """Mark the submission ``flagged`` in the gradebook when its verdict needs a human look.

    The reasons (:func:`review_reasons`) are logged and kept in the autograded notebook's
    metadata under :data:`REVIEW_KEY`, so the TA who opens a flagged notebook sees why.
    """

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict) -> tuple[NotebookNode, ResourcesDict]:
        reasons = review_reasons(resources.get(REVIEW_KEY, {}))
        if reasons:
            info = resources["nbgrader"]
            self.log.warning("Flagged %s for review: %s", info["student"], "; ".join(reasons))
            nb.metadata[REVIEW_KEY] = {"flagged": True, "reasons": reasons}
            with Gradebook(info["db_url"]) as gb:
                notebook = gb.find_submission_notebook(info["notebook"], info["assignment"], info["student"])
                notebook.flagged = True
                gb.db.commit()
        return nb, resources


def review_reasons(review: Mapping) -> list[str]:
    """Why a graded notebook needs a human look, one sentence each ([] when it does not)."""
    reasons = []
    if not review.get("verified", True):
        reasons.append(f"the clean process could not verify the notebook ({review.get('problem')})")
    if review.get("tampered"):
        reasons.append("the kernel's verdict disagreed with the clean process on " + ", ".join(review["tampered"]))
    for grade_id, found in (review.get("foreign_outputs") or {}).items():
        reasons.append(f"test cell {grade_id}: " + "; ".join(found))
    for grade_id, mistake_id in (review.get("self_reported") or {}).items():
        reasons.append(f"test cell {grade_id}: a self-reported fact was contradicted ({mistake_id})")
    if review.get("without_model"):
        reasons.append("the model could not be loaded; decided on the student's arrays alone: "
                       + ", ".join(review["without_model"]))
    return reasons
