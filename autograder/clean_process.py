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
"""

from __future__ import annotations

import json
import os
import sys
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


def serve(requests: TextIO, replies: TextIO) -> None:
    """Answer requests until stdin closes; each in a forked child of this clean parent."""
    import keras  # noqa: F401 - imported once here, inherited by every child

    from . import checks  # noqa: F401
    from .data import load_dataset

    load_dataset(announce=False)
    replies.write(json.dumps({"ready": True}) + "\n")
    replies.flush()
    for line in requests:
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: compute, write, leave without running the parent's cleanup
            os.close(read_end)
            with os.fdopen(write_end, "w") as out:
                out.write(json.dumps(_answer(json.loads(line))))
            os._exit(0)
        os.close(write_end)
        with os.fdopen(read_end) as result:
            answer = result.read()
        _, status = os.waitpid(pid, 0)
        if not answer:
            answer = json.dumps({"error": f"the checking process died (wait status {status})"})
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
