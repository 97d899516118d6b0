"""The zygote: a kernel process paused mid start-up, forked once per submission.

A grading kernel spends most of its start-up importing TensorFlow (about 5-7 s), every time.
The zygote is started exactly as a kernel is (``python -m ipykernel_launcher``), plus one IPython
config file, :mod:`autograder.bulk.zygote_ipython_config`. IPython executes that file while it
initializes the kernel, before it reads the connection file; there the zygote imports the
modules the assignment's notebook imports and then waits. For each kernel request it forks; the
child applies the request (connection file, environment, working directory, limits) and
returns from the config file, and IPython carries on starting *that* kernel. The child is thus
an ordinary ``python -m ipykernel_launcher`` process in every respect a notebook can observe
(``sys.argv``, ``sys.path``, the call stack that TensorFlow prints in its errors), except that
its imports are already done. Nothing a previous submission did can reach it: each kernel is a
fresh fork of the untouched zygote.

Started by :mod:`autograder.bulk.zygote_client`, which owns the other end of the
``SOCK_SEQPACKET`` socket named in ``$NN_AUTOGRADER_ZYGOTE_FD``. Protocol, one JSON message per
packet:

* zygote -> client, once: ``{"ready": true, "noisy": null | MODULE}``. A module that printed
  anything while being imported is not preloaded (nor are the ones after it): in a fresh kernel
  that output would have appeared in the student's cell, and nbgrader scores a test cell with
  stderr output as 0, so swallowing it here could change a grade.
* client -> zygote: ``{"argv": [...], "env": {...}, "cwd": DIR, "memory_limit": BYTES | null,
  "sandbox": PLAN | null}`` with one file descriptor attached: the kernel's own status socket.
  ``PLAN`` is a launch plan of :mod:`autograder.sandbox.launch`, which the child applies with
  that module's own code (cgroups, namespaces, mounts, rlimits, uid) before anything else. On it the zygote sends
  ``{"pid": PID}`` after forking and ``{"exit": CODE, "maxrss_kb": N, "cpu_s": T}`` when the
  kernel has ended (CODE < 0: killed by signal -CODE), then closes it.

When the client goes away (its end of the socket closes) the zygote kills every kernel it
forked and exits, so no kernel outlives its grader.
"""

from __future__ import annotations

import ctypes
import importlib
import json
import os
import resource
import selectors
import signal
import socket
import sys
import tempfile
import traceback
from collections.abc import Sequence
from pathlib import Path

MAX_MESSAGE = 1 << 20  # bytes; a request carries the kernel's environment
PR_SET_PDEATHSIG = 1  # from <sys/prctl.h>
ENV_FD = "NN_AUTOGRADER_ZYGOTE_FD"
ENV_PRELOAD = "NN_AUTOGRADER_ZYGOTE_PRELOAD"
CONFIG_FILE = Path(__file__).with_name("zygote_ipython_config.py")


def command() -> list[str]:
    """How to start a zygote: a kernel's own command line, plus the config file that pauses it."""
    return [sys.executable, "-m", "ipykernel_launcher", f"--config={CONFIG_FILE}"]


def send(sock: socket.socket, message: dict) -> None:
    sock.send(json.dumps(message).encode())


def preload(modules: Sequence[str]) -> str | None:
    """Import ``modules`` in order; stop at the first one that writes to stdout or stderr.

    Output is caught at the file-descriptor level, where TensorFlow's C++ logging writes.
    Returns the noisy module's name, or None. Modules that fail to import are skipped: the
    student's kernel gets the same ImportError when it tries.
    """
    for name in modules:
        with tempfile.TemporaryFile() as sink:
            saved = [os.dup(1), os.dup(2)]
            sys.stdout.flush(), sys.stderr.flush()
            os.dup2(sink.fileno(), 1), os.dup2(sink.fileno(), 2)
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - see docstring
                pass
            finally:
                sys.stdout.flush(), sys.stderr.flush()
                os.dup2(saved[0], 1), os.dup2(saved[1], 2)
                os.close(saved[0]), os.close(saved[1])
            if os.fstat(sink.fileno()).st_size:
                return name
    return None


def run_from_config() -> None:
    """Body of the config file: serve fork requests; return only in a forked kernel.

    Any failure ends the process: IPython would otherwise log the error in the config file and
    go on starting a kernel of its own that nobody is connected to.
    """
    try:
        control = socket.socket(fileno=int(os.environ.pop(ENV_FD)))
        modules = [m for m in os.environ.pop(ENV_PRELOAD, "").split(",") if m]
        # Ctrl-C is the grader's business; the zygote ends when the client's socket closes.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        send(control, {"ready": True, "noisy": preload(modules)})
        zygote = Zygote(control)
        request = zygote.serve()
        if request is None:
            os._exit(0)
        _become_kernel(zygote, request)
    except BaseException:  # noqa: BLE001 - see docstring; the client reads stderr
        traceback.print_exc()
        sys.stderr.flush()
        os._exit(1)


class Zygote:
    """The fork server: one control socket, one status socket per live kernel."""

    def __init__(self, control: socket.socket) -> None:
        self.control = control
        self.pid = os.getpid()
        self.kernels: dict[int, socket.socket] = {}  # pid -> status socket
        self.selector = selectors.DefaultSelector()
        self.wakeup_read, self.wakeup_write = os.pipe()
        os.set_blocking(self.wakeup_write, False)
        # SIGCHLD must have a Python handler for the wake-up fd to receive it.
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.set_wakeup_fd(self.wakeup_write)
        self.selector.register(control, selectors.EVENT_READ, self._on_request)
        self.selector.register(self.wakeup_read, selectors.EVENT_READ, self._on_sigchld)

    def serve(self) -> dict | None:
        """Serve until the client leaves (None); in a forked child, return its request."""
        while True:
            for key, _ in self.selector.select():
                result = key.data()
                if result is None or isinstance(result, dict):
                    return result

    def _on_request(self) -> dict | bool | None:
        try:
            data, fds, _, _ = socket.recv_fds(self.control, MAX_MESSAGE, 1)
        except ConnectionResetError:
            data, fds = b"", []
        if not data:  # the client is gone: take every kernel with us
            for pid in self.kernels:
                _kill_group(pid)
            return None
        status = socket.socket(fileno=fds[0])
        pid = os.fork()
        if pid == 0:
            status.close()  # student code must not be able to forge its own exit report
            self._leave()
            return json.loads(data)
        self.kernels[pid] = status
        send(status, {"pid": pid})
        return True

    def _on_sigchld(self) -> bool:
        os.read(self.wakeup_read, 4096)
        while self.kernels:
            try:
                pid, wait_status, usage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            status = self.kernels.pop(pid, None)
            if status is not None:
                try:
                    send(status, {"exit": os.waitstatus_to_exitcode(wait_status),
                                  "maxrss_kb": usage.ru_maxrss, "cpu_s": usage.ru_utime + usage.ru_stime})
                except OSError:
                    pass  # the client already gave up on this kernel
                status.close()
        return True

    def _leave(self) -> None:
        """In a forked child: drop everything of the zygote's, and die with it."""
        os.setsid()  # its own process group, as jupyter_client gives a kernel
        self.die_with_zygote()
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        self.selector.close()
        os.close(self.wakeup_read), os.close(self.wakeup_write)
        self.control.close()
        for sock in self.kernels.values():
            sock.close()

    def die_with_zygote(self) -> None:
        """Ask Linux to SIGKILL this child when the zygote dies (again after a uid change,
        which clears the request)."""
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != self.pid:  # the zygote died before prctl took effect
            os._exit(1)


def _become_kernel(zygote: Zygote, request: dict) -> None:
    """Apply the request; IPython then starts the kernel it describes."""
    import ipykernel_launcher
    from ipykernel.kernelapp import IPKernelApp

    if request.get("sandbox"):
        _enter_sandbox(request["sandbox"])
        zygote.die_with_zygote()
    if request.get("memory_limit"):
        limit = int(request["memory_limit"])
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = [ipykernel_launcher.__file__, *request["argv"]]
    IPKernelApp.instance().parse_command_line(request["argv"])
    _reseed_numpy()


def _enter_sandbox(plan: dict) -> None:
    """Confine this process as ``autograder.sandbox.launch`` confines a kernel it execs."""
    from autograder.sandbox import launch

    try:
        launch.apply(plan)
    except (launch.SetupError, OSError) as exc:
        sys.stderr.write(f"autograder.sandbox: cannot start the kernel: {exc}\n")
        sys.stderr.flush()
        os._exit(launch.EXIT_SETUP_FAILED)


def _reseed_numpy() -> None:
    """A fresh interpreter seeds NumPy's global generator from the OS; forks would share one.

    (Python's ``random`` reseeds itself after fork.)
    """
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed()


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass
