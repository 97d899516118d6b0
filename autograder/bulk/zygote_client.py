"""The grading worker's side of the zygote: start it, ask it for kernels, watch them end.

One zygote per worker process, reused for every submission the worker grades. It is replaced
when a kernel would need a different environment or other preloaded modules: modules read
environment variables when imported (``TF_CPP_MIN_LOG_LEVEL``, the feedback language), so a
kernel forked from a zygote started with other values would not behave like a fresh kernel.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .zygote import ENV_FD, ENV_PRELOAD, MAX_MESSAGE, command

READY_TIMEOUT = 600.0  # seconds for the zygote's imports on a busy machine
# Set per launch by jupyter_client; they do not affect what a kernel imports.
PER_LAUNCH_PREFIX = "JPY_"


class ZygoteError(Exception):
    """The zygote could not be started or stopped answering."""


@dataclass(frozen=True)
class KernelExit:
    """How a forked kernel ended: exit code (negative: the signal that killed it) and usage."""

    code: int
    maxrss_kb: int
    cpu_s: float


class ForkedKernel:
    """A kernel process forked by the zygote; not our child, so its end is reported to us."""

    def __init__(self, pid: int, status: socket.socket) -> None:
        self.pid = pid
        self._status = status
        self.exit: KernelExit | None = None

    def poll(self, timeout: float = 0.0) -> KernelExit | None:
        """The exit report if the kernel has ended (waiting up to ``timeout`` s), else None."""
        if self.exit is None and select.select([self._status], [], [], timeout)[0]:
            data = self._status.recv(MAX_MESSAGE)
            report = json.loads(data) if data else {"exit": -signal.SIGKILL, "maxrss_kb": 0, "cpu_s": 0.0}
            self.exit = KernelExit(report["exit"], report["maxrss_kb"], report["cpu_s"])
            self._status.close()
        return self.exit

    def signal(self, signum: int) -> None:
        """Signal the kernel's process group (the kernel and anything it started)."""
        if self.poll() is None:
            try:
                os.killpg(self.pid, signum)
            except ProcessLookupError:
                pass


def _rebase(value: str, old: str, new: str) -> str:
    """``value`` with the path ``old`` (or a path below it) moved to ``new``."""
    if value == old or value.startswith(old.rstrip("/") + "/"):
        return new + value[len(old.rstrip("/")):]
    return value


def _launch_env(env: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if not k.startswith(PER_LAUNCH_PREFIX)}


class Zygote:
    """A running zygote process and the control socket to it.

    ``private_home``: the sandboxed kernels' home directory (the same path for every kernel,
    each in its own mount namespace). The zygote itself runs outside any sandbox, so the files
    IPython and Keras create under it at start-up go to a private directory instead.
    """

    def __init__(self, env: Mapping[str, str], preload: Sequence[str], private_home: str | None = None) -> None:
        self.env = _launch_env(env)
        self.preload = tuple(preload)
        self.private_home = private_home
        self._lock = threading.Lock()
        self._stderr = tempfile.TemporaryFile()
        self._home = tempfile.mkdtemp(prefix="nn-autograder-zygote-") if private_home else None
        own_env = {k: _rebase(v, private_home, self._home) for k, v in env.items()} if private_home else dict(env)
        self._control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.process = subprocess.Popen(
            command(), env={**own_env, ENV_FD: str(theirs.fileno()), ENV_PRELOAD: ",".join(self.preload)},
            pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=self._stderr)
        theirs.close()
        ready = self._receive(READY_TIMEOUT)
        self.noisy: str | None = ready["noisy"]

    def _receive(self, timeout: float) -> dict:
        if not select.select([self._control], [], [], timeout)[0]:
            self.close()
            raise ZygoteError(f"the kernel zygote did not start within {timeout:.0f} s")
        data = self._control.recv(MAX_MESSAGE)
        if not data:
            self._stderr.seek(0)
            tail = self._stderr.read().decode(errors="replace").strip().splitlines()[-5:]
            self.close()
            raise ZygoteError("the kernel zygote exited: " + " | ".join(tail))
        return json.loads(data)

    def suits(self, env: Mapping[str, str], preload: Sequence[str], private_home: str | None) -> bool:
        return (self.alive() and self.preload == tuple(preload) and self.env == _launch_env(env)
                and self.private_home == private_home)

    def alive(self) -> bool:
        return self.process.poll() is None

    def fork(self, argv: Sequence[str], env: Mapping[str, str], cwd: str, memory_limit: int | None,
             sandbox: dict | None = None) -> ForkedKernel:
        """A new kernel running ``ipykernel_launcher`` with ``argv`` (the part after ``-m ...``).

        ``sandbox`` is the launch plan of ``autograder.sandbox``; the child applies it first.
        """
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        request = {"argv": list(argv), "env": dict(env), "cwd": cwd, "memory_limit": memory_limit,
                   "sandbox": sandbox}
        with self._lock:
            try:
                socket.send_fds(self._control, [json.dumps(request).encode()], [theirs.fileno()])
            except OSError as exc:
                mine.close()
                raise ZygoteError(f"the kernel zygote is gone: {exc}") from None
            finally:
                theirs.close()
        if not select.select([mine], [], [], READY_TIMEOUT)[0]:
            mine.close()
            raise ZygoteError("the kernel zygote did not fork a kernel")
        data = mine.recv(MAX_MESSAGE)
        if not data:
            mine.close()
            raise ZygoteError("the kernel zygote died while forking a kernel")
        return ForkedKernel(json.loads(data)["pid"], mine)

    def close(self) -> None:
        """Stop the zygote; it kills the kernels it forked when its control socket closes."""
        self._control.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._stderr.close()
        if self._home:
            shutil.rmtree(self._home, ignore_errors=True)


_CURRENT: Zygote | None = None
_CURRENT_LOCK = threading.Lock()


def zygote_for(env: Mapping[str, str], preload: Sequence[str], private_home: str | None = None) -> Zygote:
    """This process's zygote for kernels with environment ``env``, (re)started if needed.

    If a preloaded module turns out to print on import, the zygote is restarted with only the
    modules before it (see :mod:`autograder.bulk.zygote`).
    """
    global _CURRENT
    with _CURRENT_LOCK:
        if _CURRENT is not None and not _CURRENT.suits(env, preload, private_home):
            _CURRENT.close()
            _CURRENT = None
        if _CURRENT is None:
            zygote = Zygote(env, preload, private_home)
            if zygote.noisy is not None:
                zygote.close()
                quiet = list(preload)[:list(preload).index(zygote.noisy)] if zygote.noisy in preload else []
                zygote = Zygote(env, quiet, private_home)
                zygote.preload = tuple(preload)  # what was asked for, so the next call reuses it
            _CURRENT = zygote
        return _CURRENT
