"""Where the grading tasks run: a Dask cluster the grader starts, or one that already runs.

By default a ``LocalCluster`` of worker *processes* (one task at a time each) is started for
the batch and stopped after it. With ``--scheduler tcp://HOST:PORT`` the same tasks go to an
existing cluster, whose workers must see the course directory at the same path and run this
package (see ``docs/cluster.md``). Either way each worker process is long-lived: nbgrader,
its configuration and the kernel zygote are set up once per worker, not per submission.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from distributed import Client, LocalCluster
from distributed.diagnostics.plugin import WorkerPlugin

CONNECT_TIMEOUT = "20s"


class ClusterError(Exception):
    """The cluster could not be started or reached."""


class WorkerOutputToFile(WorkerPlugin):
    """Send a local worker's stdout and stderr (and its kernels' and helpers') to a log file.

    They would otherwise land on the grader's terminal, through the progress bar.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def setup(self, worker) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.directory / f"worker-{os.getpid()}.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)


def _make_main_spawnable() -> None:
    """Give ``__main__`` the ``__spec__`` attribute that multiprocessing's spawn reads.

    An IPython shell in this process (a notebook or console that calls the grader, or an
    embedded shell) replaces ``__main__`` with a stand-in module without one; every local
    worker would then fail to start ("Nanny failed to start"). ``None`` is what a script's
    ``__main__`` has, and tells spawn there is no main module to re-import.
    """
    main = sys.modules.get("__main__")
    if main is not None and not hasattr(main, "__spec__"):
        main.__spec__ = None


@contextmanager
def dask_client(scheduler: str | None, workers: int, log_dir: Path) -> Iterator[Client]:
    """A connected client; the local cluster, if we started one, is shut down on exit.

    Output of local workers goes to files in ``log_dir``; a remote cluster's is its operator's.
    """
    if scheduler:
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as exc:
            raise ClusterError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        with client:
            yield client
        return
    _make_main_spawnable()
    with warnings.catch_warnings():
        # Without a dashboard the scheduler still serves its health routes, on 8787 if it can;
        # another cluster on this machine only moves them elsewhere, which needs no warning.
        warnings.filterwarnings("ignore", message="Port .* is already in use", category=UserWarning)
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, memory_limit=0, silence_logs=logging.ERROR)
    with cluster, Client(cluster) as client:
        client.register_plugin(WorkerOutputToFile(log_dir))
        yield client


def total_threads(client: Client) -> int:
    """Task slots in the cluster right now (workers may come and go on a real cluster)."""
    return sum(client.nthreads().values())
