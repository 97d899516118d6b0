"""``python -m autograder check nn_basics.ipynb``: the student's last look before submitting.

The notebook's own ✔ lines show the student's session, not what grading will see: grading
starts a fresh kernel and runs every cell top to bottom. This command does the same in the
student's own environment (the Python that runs it, with nbclient, as nbgrader does), then
prints every practice's self-check in full lines (``nbgrader validate`` cuts them at 90
characters and exits 0 on failure), and says how the saved notebook differs from that run
(:mod:`autograder.saved_notebook`). Exit status: 0 when every self-check passed and no cell
failed, 1 otherwise, 2 when the notebook cannot be read or run at all.

It needs only what a Jupyter install has (nbformat, nbclient, jupyter_client, ipykernel) and the
lesson's own package: nothing of nbgrader, Dask or the feedback templates.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import messages
from .saved_notebook import Finding, cell_label, findings
from .spec import CHECK_POINTS, SOLUTION_CELLS
from .triage import Unreadable, read_submission
from .verdict import VERDICT_MIME, Verdict

CELL_TIMEOUT = 600  # seconds per cell, as nbgrader_config.py's Execute.timeout
_KERNEL = "nn-basics-check"
_VERIFY = re.compile(r"""verify\(\s*["'](\w+)["']""")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _t(key: str, **fields: object) -> str:
    return messages.text(f"student_check.{key}", **fields)


class CheckError(Exception):
    """The notebook cannot be checked at all; the message is one line for the student."""


@dataclass(frozen=True)
class CellResult:
    """What one executed cell shows: the verdicts it published and the error it ended with."""

    position: int
    cell: Mapping[str, Any]
    verdicts: list[Verdict]
    error: str | None
    stderr: str | None

    @property
    def check_id(self) -> str | None:
        grade_id = self.cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in CHECK_POINTS:
            return grade_id
        found = _VERIFY.search("".join(self.cell.get("source", "")))
        return found[1] if found and found[1] in CHECK_POINTS else None


def read(path: Path) -> Any:
    """The notebook at ``path`` as grading reads it (a damaged file is salvaged the same way)."""
    try:
        with open(path, "rb") as stream:
            notebook, repairs = read_submission(stream)
    except FileNotFoundError:
        raise CheckError(_t("no_file", path=path)) from None
    except (OSError, Unreadable) as exc:
        raise CheckError(_t("unreadable", path=path, reason=exc)) from None
    return notebook, bool(repairs)


def _kernel_manager(spec_root: Path) -> Any:
    """A kernel of the Python running this command: the student's environment, whatever Jupyter's
    own "python3" kernel spec points at."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    folder = spec_root / _KERNEL
    folder.mkdir(parents=True)
    (folder / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "nn_basics check", "language": "python"}))
    return KernelManager(kernel_name=_KERNEL, kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(spec_root)]))


def execute(notebook: Any, folder: Path, timeout: int = CELL_TIMEOUT) -> Any:
    """Run a copy of ``notebook`` top to bottom in a fresh kernel started in ``folder``.

    Errors do not stop the run (``allow_errors``), as in grading: a later check still reports.
    """
    try:
        from nbclient import NotebookClient
        from nbclient.exceptions import CellTimeoutError, DeadKernelError
    except ImportError as exc:
        raise CheckError(_t("missing_package", package=exc.name or "nbclient")) from None
    # As nbgrader_config.py does for the grading kernel: TensorFlow's start-up lines are noise.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    fresh = copy.deepcopy(notebook)
    with tempfile.TemporaryDirectory(prefix="nn-basics-check-") as spec_root:
        client = NotebookClient(fresh, timeout=timeout, allow_errors=True, km=_kernel_manager(Path(spec_root)),
                                resources={"metadata": {"path": str(folder)}})
        try:
            # The kernel process's own log lines (ipykernel's transport warnings) are not the
            # notebook's output, which arrives through the kernel's messages.
            client.execute(stderr=subprocess.DEVNULL)
        except CellTimeoutError:
            raise CheckError(_t("timeout", seconds=timeout)) from None
        except DeadKernelError as exc:
            raise CheckError(_t("kernel_died", reason=_plain(str(exc)))) from None
        except RuntimeError as exc:  # the kernel did not start (e.g. ipykernel missing)
            raise CheckError(_t("kernel_failed", reason=_plain(str(exc)))) from None
    return fresh


def _plain(text: str) -> str:
    lines = [ln for ln in _ANSI.sub("", text).splitlines() if ln.strip()]
    return lines[-1].strip() if lines else ""


def results(executed: Any) -> list[CellResult]:
    """What each code cell of an executed notebook shows, in notebook order."""
    out = []
    for position, cell in enumerate(executed.cells):
        if cell.cell_type != "code":
            continue
        verdicts, error, stderr = [], None, None
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if VERDICT_MIME in data:
                verdicts.append(Verdict.from_json(data[VERDICT_MIME]))
            elif output.get("output_type") == "error" and error is None:
                error = _plain(f"{output.get('ename', '')}: {output.get('evalue', '')}")
            elif output.get("output_type") == "stream" and output.get("name") == "stderr" and stderr is None:
                stderr = _plain(output.get("text", ""))
        out.append(CellResult(position, cell, verdicts, error, stderr))
    return out


def _cell_lines(result: CellResult, seen: dict[str, bool]) -> tuple[list[str], bool]:
    """The lines for one executed cell, recording its checks in ``seen``; False if the cell failed."""
    lines: list[str] = []
    for verdict in result.verdicts:
        seen[verdict.check_id] = seen.get(verdict.check_id, True) and verdict.passed
        lines += verdict.lines(self_check=True)
    check_id = result.check_id
    if check_id and not result.verdicts:  # the check itself could not run (autograder not importable, ...)
        seen[check_id] = False
        lines.append(_t("check_not_run", title=messages.title(check_id), error=result.error or "-"))
    elif result.error and not result.verdicts:
        lines.append(_t("cell_error", cell=cell_label(result.cell, result.position), error=result.error))
    if check_id and result.stderr:
        lines.append(_t("stderr", title=messages.title(check_id), line=result.stderr))
    return lines, not (result.error and not result.verdicts)


def report(executed: Any, saved: list[Finding], damaged: bool) -> tuple[list[str], bool]:
    """The lines to print, grouped by practice in notebook order, and whether everything passed."""
    lines = [_t("damaged")] if damaged else []
    if saved:
        lines += [_t("saved_header"), *(f"  ⚠ {finding.text()}" for finding in saved), ""]
    seen: dict[str, bool] = {}
    cells_ok = True
    section, shown_section = _t("before_practices"), None
    for result in results(executed):
        grade_id = result.cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in SOLUTION_CELLS:
            section = messages.text(f"cell.{grade_id}")
        body, cell_ok = _cell_lines(result, seen)
        cells_ok = cells_ok and cell_ok
        if body and shown_section != section:
            lines.append(section)
            shown_section = section
        lines += [f"  {line}" for line in body]
    missing = [check_id for check_id in CHECK_POINTS if check_id not in seen]
    lines += [_t("check_missing", title=messages.title(check_id)) for check_id in missing]
    failed = len(missing) + sum(not seen[c] for c in CHECK_POINTS if c in seen)
    ok = cells_ok and failed == 0
    if ok:
        lines += ["", _t("summary_pass", total=len(CHECK_POINTS))]
    elif failed:
        lines += ["", _t("summary_fail", total=len(CHECK_POINTS), failed=failed)]
    else:
        lines += ["", _t("summary_cell_error", total=len(CHECK_POINTS))]
    return lines, ok


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("notebook", type=Path, nargs="?", default=Path("nn_basics.ipynb"),
                        help="the notebook to check (default: nn_basics.ipynb in this folder)")
    parser.add_argument("--no-run", action="store_true",
                        help="only say how the saved notebook differs from a top-to-bottom run (no kernel)")
    parser.add_argument("--timeout", type=int, default=CELL_TIMEOUT, help="seconds per cell (default: 600)")


def run(args: argparse.Namespace) -> int:
    """Exit 0: all passed; 1: a self-check or a cell failed (with ``--no-run``: the saved notebook
    differs from a top-to-bottom run); 2: the notebook cannot be read or run at all."""
    path: Path = args.notebook
    try:
        notebook, damaged = read(path)
        saved = findings(notebook)
        if args.no_run:
            lines = [_t("saved_header"), *(f"  ⚠ {f.text()}" for f in saved)] if saved else [_t("saved_clean")]
            ok = not saved
        else:
            print(_t("running", path=path.name), flush=True)  # the run takes minutes: say so first
            lines, ok = report(execute(notebook, path.resolve().parent, args.timeout), saved, damaged)
    except CheckError as exc:
        print(f"✘ {exc}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0 if ok else 1
