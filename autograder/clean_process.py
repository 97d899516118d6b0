"""The clean-process verdict: every check, re-run in a process that never ran student code.

``python -I -m autograder.clean_process`` starts a small server. It imports TensorFlow and the
checks and loads the reference data once, then for each request forks a child: a fresh process
that never ran student code, with the expensive imports already done (about 1 s per notebook
instead of about 7 s for a new interpreter). The child loads the artifacts (the model with
Keras' ``safe_mode``), runs every check in full and answers.

Protocol, one JSON document per line: the client writes ``{"artifacts": DIR, "sources": [...],
"errors": [...]}`` to the server's stdin and reads ``{"verdicts": {check_id: verdict}}`` or
``{"error": text}`` from its stdout. ``errors`` holds, per source, the error output that cell
produced (``{"ename", "evalue"}`` or ``null``); it only explains failures in messages. ``-I`` keeps the submission's folder and ``PYTHON*`` variables out of
``sys.path``, so a student file named ``numpy.py`` cannot shadow a library here.

Confinement: a request also carries ``plan``, ``env``, ``data_budget`` and ``time_limit`` (from
:mod:`autograder.sandbox.clean_box`). The child applies the plan (uid, namespaces, cgroups,
rlimits) before it reads anything the kernel wrote; the parent kills it at the time limit.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from .spec import CHECK_POINTS


def clean_verdicts(artifact_dir: Path, sources: Sequence[str], errors: Sequence[object] = ()) -> dict[str, dict]:
    """Run every check, in full, on the artifacts; the grader's own data is the reference."""
    from .artifacts import load_artifacts
    from .checks import run_check
    from .context import Context

    ctx = Context(load_artifacts(artifact_dir), sources, errors=errors)
    return {check_id: run_check(check_id, ctx).to_json(hidden=True) for check_id in CHECK_POINTS}


def _answer(request: dict) -> dict:
    try:
        errors = request.get("errors")
        return {"verdicts": clean_verdicts(Path(request["artifacts"]), list(request["sources"]),
                                           errors if isinstance(errors, list) else [])}
    except Exception as exc:  # noqa: BLE001 - reported to the client, which fails the notebook closed
        return {"error": f"{type(exc).__name__}: {exc}"}


def data_size() -> int:
    """This process's ``VmData`` in bytes (what ``RLIMIT_DATA`` counts), or 0 when unknown."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmData:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _child(request: dict, write_end: int) -> None:
    """In the forked child: confine this process as the request's plan says, then check."""
    try:
        if request.get("plan"):
            from .sandbox import launch

            plan = request["plan"]
            if request.get("data_budget"):  # on top of what this child inherited from the server
                plan["rlimits"]["DATA"] = data_size() + int(request["data_budget"])
            launch.apply(plan)  # cgroups, namespaces, rlimits, uid: before reading anything
        if request.get("env") is not None:
            os.environ.clear()
            os.environ.update(request["env"])
            tempfile.tempdir = None  # re-read TMPDIR: the private /tmp
        answer = _answer(request)
    except Exception as exc:  # noqa: BLE001 - a confinement step failed: no verdict without it
        answer = {"error": f"the checking process could not be confined: {exc}"}
    with os.fdopen(write_end, "w") as out:
        out.write(json.dumps(answer))


def _collect(pid: int, read_end: int, time_limit: float) -> str:
    """The child's answer, or an error once it died or ran past ``time_limit`` seconds (then killed)."""
    chunks: list[bytes] = []
    deadline = time.monotonic() + time_limit if time_limit else None
    timed_out = False
    with selectors.DefaultSelector() as sel:
        sel.register(read_end, selectors.EVENT_READ)
        while True:
            wait = None if deadline is None else deadline - time.monotonic()
            if wait is not None and wait <= 0:
                timed_out = True
                os.kill(pid, signal.SIGKILL)
                break
            if not sel.select(wait):
                continue
            chunk = os.read(read_end, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    os.close(read_end)
    _, status = os.waitpid(pid, 0)
    if timed_out:
        return json.dumps({"error": f"the checking process ran past its time limit of {time_limit:g} s"})
    if not chunks:
        return json.dumps({"error": f"the checking process died (wait status {status})"})
    return b"".join(chunks).decode("utf-8", "replace")


def serve(requests: TextIO, replies: TextIO) -> None:
    """Answer requests until stdin closes; each in a forked child of this clean parent.

    A request may carry a launch ``plan`` (see :mod:`autograder.sandbox.clean_box`), an
    ``env`` and a ``time_limit``: the child confines itself with them before it reads the
    artifacts, and this parent kills it at the time limit.
    """
    import keras  # noqa: F401 - imported once here, inherited by every child

    from . import checks, saved_model  # noqa: F401
    from .data import load_dataset

    load_dataset(announce=False)
    replies.write(json.dumps({"ready": True}) + "\n")
    replies.flush()
    for line in requests:
        request = json.loads(line)
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: compute, write, leave without running the parent's cleanup
            os.close(read_end)
            try:
                _child(request, write_end)
            finally:
                os._exit(0)
        os.close(write_end)
        answer = _collect(pid, read_end, float(request.get("time_limit") or 0))
        replies.write(answer + "\n")
        replies.flush()


def main() -> int:
    # Keep the protocol channel private: anything else that prints goes to stderr.
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    serve(sys.stdin, replies)
    return 0


if __name__ == "__main__":
    sys.exit(main())
