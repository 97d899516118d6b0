"""The local Dask cluster starts in any host process, including one an IPython shell runs in."""

from __future__ import annotations

import sys

from autograder.bulk.cluster import dask_client


class _ShellMain:
    """What IPython puts in ``sys.modules["__main__"]``: a module-like object with no ``__spec__``."""


def test_workers_start_when_an_ipython_shell_replaced_main(monkeypatch, tmp_path):
    # An instructor grading from a notebook, or a test that ran an IPython shell in this process:
    # multiprocessing's spawn reads __main__.__spec__, and without the grader's guard every
    # worker failed with "Nanny failed to start".
    monkeypatch.setitem(sys.modules, "__main__", _ShellMain())
    with dask_client(None, 1, tmp_path / "logs") as client:
        assert client.submit(sum, [1, 2]).result() == 3
