"""Plugging the zygote into nbgrader: the same Execute step, with kernels forked, not spawned.

nbgrader's Execute (or the course's subclass of it) runs the notebook through nbclient, which
asks a jupyter_client kernel manager to start the kernel; the manager hands the launch to a
*provisioner*. Only that last step changes here: :class:`ZygoteProvisioner` gets the kernel
from the worker's zygote instead of ``Popen``, with the same command line, environment and
working directory. The course's own kernel manager stays in charge of everything else, so a
course that runs kernels in ``autograder.sandbox`` keeps its sandbox: the manager still
allocates the uid, cgroups and directories and wraps the command in the sandbox launcher; the
provisioner recognises that wrapper and has the forked child apply the same launch plan with
the sandbox's own code before it becomes the kernel. Everything nbclient does with the kernel
afterwards (messages, interrupts on cell timeout, shutdown) is unchanged.

The per-submission limits (memory, the deadline) come from the :class:`KernelSession` that the
worker opens around one submission.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_client.connect import KernelConnectionInfo
from jupyter_client.provisioning import LocalProvisioner
from nbgrader.preprocessors import Execute

from .zygote_client import ForkedKernel, zygote_for

LAUNCHER_MODULE = "ipykernel_launcher"
SANDBOX_LAUNCHER = "autograder.sandbox.launch"


@dataclass
class KernelSession:
    """The kernels started while grading one submission, its limits, and what happened.

    The deadline counts from the submission's first kernel, so a worker's one-time start-up
    (the zygote's imports) is not charged to the first student it grades. When it passes,
    the live kernels are killed (nbclient then sees a dead kernel) and so is any kernel
    started later.
    """

    preload: Sequence[str] = ()
    memory_limit: int | None = None
    timeout: float | None = None
    kernels: list[ForkedKernel] = field(default_factory=list)
    shutdown_requested: set[int] = field(default_factory=set)  # pids nbclient asked to stop
    deadline_hit: bool = False  # a kernel was killed because the deadline passed
    _expired: bool = False
    _timer: threading.Timer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kernel: ForkedKernel) -> None:
        with self._lock:
            self.kernels.append(kernel)
            if self._expired:
                self._kill(kernel)
            elif self._timer is None and self.timeout:
                self._timer = threading.Timer(self.timeout, self._expire)
                self._timer.daemon = True
                self._timer.start()

    def _expire(self) -> None:
        with self._lock:
            self._expired = True
            for kernel in self.kernels:
                self._kill(kernel)

    def _kill(self, kernel: ForkedKernel) -> None:
        if kernel.poll() is None:
            kernel.signal(signal.SIGKILL)
            self.deadline_hit = True

    def close(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()

    def unexpected_exits(self) -> list[int]:
        """Exit codes of kernels that ended without being asked to (crash, kill, os._exit)."""
        codes = []
        for kernel in self.kernels:
            end = kernel.poll()
            if end is not None and kernel.pid not in self.shutdown_requested:
                codes.append(end.code)
        return codes

    def cpu_seconds(self) -> float:
        """CPU time of this submission's ended kernels, as reported by the zygote."""
        ended = (k.poll(timeout=1.0) for k in self.kernels)
        return sum(end.cpu_s for end in ended if end is not None)


_SESSION = KernelSession()


@contextmanager
def kernel_session(session: KernelSession) -> Iterator[KernelSession]:
    """Make ``session`` the one new kernels join (a worker grades one submission at a time)."""
    global _SESSION
    previous, _SESSION = _SESSION, session
    try:
        yield session
    finally:
        session.close()
        _SESSION = previous


class ZygoteProvisioner(LocalProvisioner):
    """Starts the kernel as a fork of the zygote when the kernel is this Python's ipykernel.

    Any other kernel (another interpreter, another language) is launched as usual, and so is a
    sandboxed kernel whose sandbox has no mount namespace: its home directory differs from one
    kernel to the next, so no single zygote could stand for all of them.
    """

    kernel: ForkedKernel | None = None

    @property
    def has_process(self) -> bool:
        return self.kernel is not None or super().has_process

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> KernelConnectionInfo:
        plan, kernel_cmd = split_sandbox_launcher(cmd)
        if not _is_this_ipykernel(kernel_cmd) or (plan is not None and "mount" not in plan.get("namespaces", [])):
            return await super().launch_kernel(cmd, **kwargs)
        env = dict(kwargs.get("env") or os.environ)
        env["JPY_PARENT_PID"] = str(os.getpid())  # as jupyter_client's launcher sets it
        cwd = str(kwargs.get("cwd") or os.getcwd())
        session = _SESSION
        private_home = plan.get("home") if plan else None
        zygote = await asyncio.to_thread(zygote_for, env, session.preload, private_home)
        self.kernel = await asyncio.to_thread(zygote.fork, kernel_cmd[3:], env, cwd, session.memory_limit, plan)
        session.add(self.kernel)
        self.pid = self.pgid = self.kernel.pid
        self.cwd = cwd
        return self.connection_info

    async def poll(self) -> int | None:
        if self.kernel is None:
            return await super().poll()
        end = self.kernel.poll()
        return None if end is None else end.code

    async def wait(self) -> int | None:
        if self.kernel is None:
            return await super().wait()
        while (end := self.kernel.poll()) is None:
            await asyncio.sleep(0.05)
        self.kernel = None
        return end.code

    async def send_signal(self, signum: int) -> None:
        if self.kernel is None:
            return await super().send_signal(signum)
        self.kernel.signal(signum)

    async def kill(self, restart: bool = False) -> None:
        await self.send_signal(signal.SIGKILL)

    async def terminate(self, restart: bool = False) -> None:
        await self.send_signal(signal.SIGTERM)


def split_sandbox_launcher(cmd: Sequence[str]) -> tuple[dict | None, list[str]]:
    """``(plan, kernel command)`` from ``python -I -m autograder.sandbox.launch PLAN -- CMD...``.

    Any other command is returned unchanged with no plan.
    """
    if len(cmd) > 5 and list(cmd[1:4]) == ["-I", "-m", SANDBOX_LAUNCHER] and cmd[5] == "--":
        return json.loads(cmd[4]), list(cmd[6:])
    return None, list(cmd)


def _is_this_ipykernel(cmd: Sequence[str]) -> bool:
    return (len(cmd) >= 3 and list(cmd[1:3]) == ["-m", LAUNCHER_MODULE]
            and Path(cmd[0]).resolve() == Path(sys.executable).resolve())


class _ForkingKernelManager:
    """Mixed in front of a course's kernel manager class: installs :class:`ZygoteProvisioner`."""

    async def _async_pre_start_kernel(self, **kw: Any) -> tuple[list[str], dict[str, Any]]:
        if self.provisioner is None:
            self.kernel_id = self.kernel_id or kw.pop("kernel_id", str(uuid.uuid4()))
            self.provisioner = ZygoteProvisioner(kernel_id=self.kernel_id, kernel_spec=self.kernel_spec,
                                                 parent=self)
        return await super()._async_pre_start_kernel(**kw)

    async def _async_shutdown_kernel(self, now: bool = False, restart: bool = False) -> None:
        kernel = getattr(self.provisioner, "kernel", None)
        if kernel is not None:
            _SESSION.shutdown_requested.add(kernel.pid)
        await super()._async_shutdown_kernel(now=now, restart=restart)

    shutdown_kernel = _async_shutdown_kernel  # AsyncKernelManager binds the public name to the base method


_FORKING: dict[type, type] = {}


def forking(execute_class: type[Execute]) -> type[Execute]:
    """``execute_class`` (nbgrader's Execute or a course's subclass) with forked kernels.

    nbgrader's Execute passes its kernel manager class as a constructor argument, which wins
    over configuration, so the way in is a subclass that passes a manager of its own: the
    class's own manager (``AsyncKernelManager``, or the sandbox's) with
    :class:`_ForkingKernelManager` mixed in front. The subclass keeps every setting of
    ``execute_class``: traitlets applies the configuration of parent classes.

    It also stops the kernel at once when the notebook is done instead of asking it to exit:
    every output is in by then, and a TensorFlow kernel's own exit costs about 1.3 s of CPU
    and 2.5 s of waiting per submission.
    """
    if execute_class not in _FORKING:
        base_manager = execute_class().kernel_manager_class
        manager = type(f"Forking{base_manager.__name__}", (_ForkingKernelManager, base_manager),
                       {"__module__": __name__})

        def __init__(self: Execute, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("kernel_manager_class", manager)
            kwargs.setdefault("shutdown_kernel", "immediate")
            execute_class.__init__(self, *args, **kwargs)

        _FORKING[execute_class] = type(f"Forking{execute_class.__name__}", (execute_class,),
                                       {"__init__": __init__, "__module__": __name__})
    return _FORKING[execute_class]
