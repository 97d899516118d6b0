"""Forked kernels: fresh and isolated like a new kernel, preloaded, and under the session's limits.

Small notebooks without TensorFlow run through nbclient with the kernel manager the bulk grader
gives nbgrader's Execute, so these tests take seconds.
"""

from __future__ import annotations

import contextlib
import signal

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from nbformat.v4 import new_code_cell, new_notebook
from nbgrader.preprocessors import Execute

from autograder.bulk.kernel_launch import KernelSession, forking, kernel_session

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def _run(session: KernelSession, *sources: str, cwd) -> list[str]:
    """Each cell's text output (stream text, or the error name and value)."""
    nb = new_notebook(cells=[new_code_cell(s) for s in sources], metadata={"kernelspec": KERNELSPEC})
    client = NotebookClient(nb, kernel_manager_class=forking(Execute)().kernel_manager_class,
                            allow_errors=True, timeout=60, resources={"metadata": {"path": str(cwd)}})
    with kernel_session(session), contextlib.suppress(DeadKernelError):  # as nbgrader's Execute would see it
        client.execute()
    return ["".join(o.get("text", "") if o.output_type == "stream" else f"{o.ename}: {o.evalue}"
                    for o in cell.outputs) for cell in nb.cells]


def test_each_kernel_starts_fresh_with_its_imports_done(tmp_path):
    session = KernelSession(preload=("json", "this"))
    first = _run(session, "import sys, json\nprint('json' in sys.modules)\njson.leaked = 1\nsecret = 42",
                 "import this", cwd=tmp_path)
    second = _run(session, "import sys, os, json\nprint(hasattr(json, 'leaked'), 'secret' in globals())",
                  "print(sys.argv[1], len(In), os.getcwd())", cwd=tmp_path)
    assert first[0] == "True\n"  # preloaded before the student imported it
    assert first[1].startswith("The Zen of Python")  # a module that prints on import is not preloaded
    assert second[0] == "False False\n"  # nothing of the first submission reaches the second
    assert second[1] == f"-f 3 {tmp_path}\n"  # launched as ipykernel_launcher -f ..., fresh history
    assert session.unexpected_exits() == []


def test_a_kernel_that_exits_is_reported_with_its_code(tmp_path):
    session = KernelSession()
    _run(session, "import os\nos._exit(3)", cwd=tmp_path)
    assert session.unexpected_exits() == [3]


def test_the_deadline_kills_the_kernel(tmp_path):
    session = KernelSession(timeout=2)
    _run(session, "print('started', flush=True)", "import time\ntime.sleep(60)", cwd=tmp_path)
    assert session.deadline_hit
    assert session.unexpected_exits() == [-signal.SIGKILL]


@pytest.mark.parametrize("limit, raised", [(2 * 2**30, True), (None, False)])
def test_the_memory_limit_applies_to_the_kernel_only(tmp_path, limit, raised):
    session = KernelSession(memory_limit=limit)
    [out] = _run(session, "block = bytearray(3 * 2**30)\nprint('allocated')", cwd=tmp_path)
    assert out == ("MemoryError: " if raised else "allocated\n")


def test_the_notebook_is_unchanged_apart_from_outputs(tmp_path):
    source = "x = 1 + 1\nprint(x)"
    nb = new_notebook(cells=[new_code_cell(source)], metadata={"kernelspec": KERNELSPEC})
    client = NotebookClient(nb, kernel_manager_class=forking(Execute)().kernel_manager_class, timeout=60,
                            resources={"metadata": {"path": str(tmp_path)}})
    with kernel_session(KernelSession()):
        client.execute()
    nbformat.validate(nb)
    assert nb.cells[0].source == source and nb.cells[0].execution_count == 1
