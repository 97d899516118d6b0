"""The zygote: a process that has done the expensive imports once and forks fresh kernels.

A grading kernel spends most of its start-up importing TensorFlow (about 5-7 s), every time.
The zygote imports the modules the assignment's notebook imports, then, for each kernel
request, forks a child that turns itself into an ordinary ``ipykernel`` kernel. The child is a
new process: nothing a previous submission did can reach it, and the student's ``import
tensorflow`` finds the module already loaded.

Run as ``python -m autograder.bulk.zygote FD MODULE...`` by :mod:`autograder.bulk.zygote_client`,
which owns the other end of the ``SOCK_SEQPACKET`` socket ``FD``. Protocol, one JSON message
per packet:

* zygote -> client, once: ``{"ready": true, "noisy": null | MODULE}``. A module that printed
  anything while being imported is not preloaded (nor are the ones after it): in a fresh kernel
  that output would have appeared in the student's cell, and nbgrader scores a test cell with
  stderr output as 0, so swallowing it here could change a grade.
* client -> zygote: ``{"argv": [...], "env": {...}, "cwd": DIR, "memory_limit": BYTES | null}``
  with one file descriptor attached: the kernel's own status socket. On it the zygote sends
  ``{"pid": PID}`` after forking and ``{"exit": CODE, "maxrss_kb": N, "cpu_s": T}`` when the
  kernel has ended (CODE < 0: killed by signal -CODE), then closes it.

When the client goes away (its end of ``FD`` closes) the zygote kills every kernel it forked
and exits, so no kernel outlives its grader.
"""

from __future__ import annotations

import atexit
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

MAX_MESSAGE = 1 << 20  # bytes; a request carries the kernel's environment
PR_SET_PDEATHSIG = 1  # from <sys/prctl.h>


def send(sock: socket.socket, message: dict) -> None:
    sock.send(json.dumps(message).encode())


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent (the zygote) dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


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


class Zygote:
    """The fork server: one control socket, one status socket per live kernel."""

    def __init__(self, control: socket.socket) -> None:
        self.control = control
        self.pid = os.getpid()
        self.kernels: dict[int, socket.socket] = {}  # pid -> status socket
        self.selector = selectors.DefaultSelector()
        self.wakeup_read, wakeup_write = os.pipe()
        os.set_blocking(wakeup_write, False)
        # SIGCHLD must have a Python handler for the wake-up fd to receive it.
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.set_wakeup_fd(wakeup_write)
        self.wakeup_write = wakeup_write
        self.selector.register(control, selectors.EVENT_READ, self._on_request)
        self.selector.register(self.wakeup_read, selectors.EVENT_READ, self._on_sigchld)

    def serve(self) -> None:
        while True:
            for key, _ in self.selector.select():
                keep_serving = key.data()
                if not keep_serving:
                    return

    def _on_request(self) -> bool:
        try:
            data, fds, _, _ = socket.recv_fds(self.control, MAX_MESSAGE, 1)
        except ConnectionResetError:
            data, fds = b"", []
        if not data:  # the client is gone: take every kernel with us
            for pid in self.kernels:
                _kill_group(pid)
            return False
        status = socket.socket(fileno=fds[0])
        pid = os.fork()
        if pid == 0:
            status.close()  # student code must not be able to forge its own exit report
            self._become_kernel(json.loads(data))  # never returns
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

    def _become_kernel(self, request: dict) -> None:
        """In the forked child: drop the zygote's state, apply the request, run ipykernel."""
        code = 1
        try:
            os.setsid()  # its own process group, as jupyter_client gives a kernel
            _die_with_parent()
            if os.getppid() != self.pid:  # the zygote died before the line above took effect
                return
            signal.set_wakeup_fd(-1)
            for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGPIPE):
                signal.signal(sig, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            self.selector.close()
            for fd in (self.wakeup_read, self.wakeup_write):
                os.close(fd)
            self.control.close()
            for sock in self.kernels.values():
                sock.close()
            if request.get("memory_limit"):
                limit = int(request["memory_limit"])
                resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            os.chdir(request["cwd"])
            os.environ.clear()
            os.environ.update(request["env"])
            code = _run_kernel(request["argv"])
        except BaseException:  # noqa: BLE001 - the child must never return into the server loop
            traceback.print_exc()
        finally:
            try:
                atexit._run_exitfuncs()  # what interpreter shutdown would run in a fresh kernel
                sys.stdout.flush(), sys.stderr.flush()
            finally:
                os._exit(code)


def _run_kernel(argv: list[str]) -> int:
    """Start ipykernel as ``python -m ipykernel_launcher ARGS`` would, in this process."""
    import ipykernel_launcher
    from ipykernel import kernelapp

    _reseed_numpy()
    sys.argv = [ipykernel_launcher.__file__, *argv]
    try:
        kernelapp.launch_new_instance(argv=argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


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


def main(argv: Sequence[str]) -> int:
    control = socket.socket(fileno=int(argv[0]))
    # A kernel must be launched as `python -m ipykernel_launcher` is: without the launching
    # directory on sys.path (ipykernel_launcher removes it; IPython adds '' back itself).
    if sys.path and os.path.realpath(sys.path[0] or ".") == os.path.realpath(os.getcwd()):
        del sys.path[0]
    # Ctrl-C is the grader's business; the zygote ends when the client's socket closes.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    noisy = preload(["ipykernel.kernelapp", "ipykernel_launcher", *argv[1:]])
    send(control, {"ready": True, "noisy": noisy})
    Zygote(control).serve()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
