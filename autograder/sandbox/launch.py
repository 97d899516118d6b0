"""The launcher: ``python -I -m autograder.sandbox.launch PLAN_JSON -- KERNEL_CMD...``.

Started by :class:`~autograder.sandbox.manager.SandboxedKernelManager` instead of the kernel. It
runs as root (when the grader does) and, in this order:

1. joins the kernel's cgroups (created by the manager, which also removes them);
2. enters new network, mount and IPC namespaces: no network interface but a loopback that is
   down, so no connection to anything; the kernel talks to the grader over ZMQ ``ipc`` sockets
   (Unix socket files), which do not need a network;
3. in the new mount namespace: hides grader-only paths (course directory, home directories,
   anything configured) under empty read-only tmpfs mounts, puts a small private tmpfs on
   ``/tmp``, ``/var/tmp`` and ``/dev/shm``, re-exposes read-only what the kernel needs inside
   hidden paths (the Python installation, the venv, this package, the data) and read-write its
   own directories, and mounts a ``/proc`` that shows only the kernel's own processes;
4. sets rlimits (file size, data size, process count, core dumps, CPU time);
5. drops to the kernel's uid/gid with no supplementary groups, sets ``no_new_privs`` (no
   setuid binary can give root back) and execs the kernel.

Any planned step that fails stops the launch (exit status 125) instead of starting a kernel
with less protection than the grader log claims. ``--probe`` reports which steps work here.
Standard library only, and ``-I`` keeps the submission's folder out of ``sys.path``.

Interface: the command line ``python -I -m autograder.sandbox.launch PLAN_JSON -- CMD...`` and
:func:`apply` are also used by the bulk grader (``autograder.bulk.kernel_launch`` parses the
command, its zygote's forked child calls ``apply(plan)``); keep both stable.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import sys

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWNET = 0x40000000
NAMESPACE_FLAGS = {"mount": CLONE_NEWNS, "ipc": CLONE_NEWIPC, "net": CLONE_NEWNET}
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_MOVE, MS_REC, MS_PRIVATE = 32, 4096, 8192, 0x4000, 1 << 18
PR_SET_NO_NEW_PRIVS = 38
HIDE_TMPFS = "mode=0755,size=64k,nr_inodes=1024"
EXIT_SETUP_FAILED = 125

_libc = ctypes.CDLL(None, use_errno=True)


class SetupError(Exception):
    pass


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise SetupError(f"{what}: {os.strerror(errno)}")


def unshare(flags: int) -> None:
    _check(_libc.unshare(ctypes.c_int(flags)), "unshare")


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    enc = (lambda s: None if s is None else s.encode())
    _check(_libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)),
           f"mount {source or ''} -> {target}")


def no_new_privs() -> None:
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(NO_NEW_PRIVS)")


def _under(path: str, parent: str) -> bool:
    return path == parent or path.startswith(parent.rstrip("/") + "/")


def join_cgroups(procs_files: list[str]) -> None:
    for procs in procs_files:
        try:
            with open(procs, "w") as out:
                out.write(str(os.getpid()))
        except OSError as exc:
            raise SetupError(f"join cgroup {procs}: {exc.strerror}") from None


def _make_mount_point(target: str, is_dir: bool) -> None:
    if is_dir:
        os.makedirs(target, mode=0o755, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), mode=0o755, exist_ok=True)
        if not os.path.exists(target):
            open(target, "a").close()


def _hide(path: str) -> None:
    if os.path.isdir(path):
        mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, HIDE_TMPFS)
        mount(None, path, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, HIDE_TMPFS)
    elif os.path.lexists(path):
        mount("/dev/null", path, None, MS_BIND)


def build_mounts(plan: dict) -> None:
    """Step 3: hide, scratch, expose, /proc. Runs inside the new mount namespace, as root."""
    mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing below propagates back to the host
    scratch = {path: size for path, size in plan.get("scratch", []) if os.path.isdir(path)}
    hidden = [p for p in plan.get("hide", [])
              if os.path.lexists(p) and not any(_under(p, s) for s in scratch)]
    tops = [h for h in hidden if not any(_under(h, o) and h != o for o in hidden)]
    covers = tops + list(scratch)
    # Bind what must stay visible to a staging point before anything covers it.
    staged: list[tuple[str, str, bool, bool]] = []  # (stage, target, writable, is_dir)
    for i, (path, writable) in enumerate(plan.get("expose", [])):
        if not os.path.exists(path) or not any(_under(path, c) for c in covers):
            continue
        is_dir = os.path.isdir(path)
        stage = os.path.join(plan["stage"], str(i))
        _make_mount_point(stage, is_dir)
        mount(path, stage, None, MS_BIND | MS_REC)
        staged.append((stage, path, writable, is_dir))
    for path in tops:
        _hide(path)
    for path, size in scratch.items():
        mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, f"mode=1777,size={int(size)}")
    # Re-expose, parents first. A read-only cover is made writable just long enough for root to
    # create the mount point.
    for stage, target, writable, is_dir in sorted(staged, key=lambda s: s[1]):
        top = next((t for t in tops if _under(target, t) and os.path.isdir(t)), None)
        if top is not None:
            mount(None, top, None, MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_NOEXEC, HIDE_TMPFS)
        _make_mount_point(target, is_dir)
        if top is not None:
            mount(None, top, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, HIDE_TMPFS)
        mount(stage, target, None, MS_MOVE)
        flags = MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV | (0 if writable else MS_RDONLY)
        mount(None, target, None, flags)
    # A hidden path inside an exposed tree (a course folder inside an exposed directory) is
    # covered again.
    for path in hidden:
        if any(_under(path, t) and path != t for _, t, _, _ in staged):
            _hide(path)
    if plan.get("hidepid"):
        mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=2")


def set_rlimits(limits: dict[str, int]) -> None:
    for name, value in limits.items():
        which = getattr(resource, f"RLIMIT_{name}")
        try:
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError) as exc:
            raise SetupError(f"setrlimit {name}={value}: {exc}") from None


def drop_privileges(uid: int, gid: int) -> None:
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if os.getuid() != uid or os.geteuid() != uid or os.getegid() != gid:
        raise SetupError("privileges were not dropped")


def make_home(home: str, uid: int | None, gid: int | None) -> None:
    os.makedirs(home, mode=0o700, exist_ok=True)
    if uid is not None:
        os.chown(home, uid, gid if gid is not None else -1)


def apply(plan: dict) -> None:
    """Everything but the exec, in the current process."""
    join_cgroups(plan.get("cgroup_procs", []))
    flags = 0
    for name in plan.get("namespaces", []):
        flags |= NAMESPACE_FLAGS[name]
    if flags:
        unshare(flags)
    if "mount" in plan.get("namespaces", []):
        build_mounts(plan)
    uid, gid = plan.get("uid"), plan.get("gid")
    if plan.get("home"):
        make_home(plan["home"], uid, gid)
    set_rlimits(plan.get("rlimits", {}))
    if uid is not None:
        drop_privileges(uid, gid)
    no_new_privs()
    os.chdir(plan.get("cwd") or "/")


def run(plan: dict, cmd: list[str]) -> None:
    try:
        apply(plan)
    except (SetupError, OSError) as exc:
        sys.stderr.write(f"autograder.sandbox: cannot start the kernel: {exc}\n")
        sys.stderr.flush()
        os._exit(EXIT_SETUP_FAILED)
    sys.stdout.flush()
    try:
        if os.sep in cmd[0]:
            os.execv(cmd[0], cmd)
        os.execvp(cmd[0], cmd)
    except OSError as exc:
        sys.stderr.write(f"autograder.sandbox: cannot run {cmd[0]}: {exc}\n")
        os._exit(EXIT_SETUP_FAILED)


# --- probing ------------------------------------------------------------------------------


def _in_child(step) -> bool:
    """Run ``step`` in a forked child (namespaces and uid changes must not touch this process)."""
    pid = os.fork()
    if pid == 0:
        try:
            step()
        except BaseException:  # noqa: BLE001 - any failure means "not available"
            os._exit(1)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def probe(probe_uid: int) -> dict[str, bool]:
    """Which mechanisms work for this process on this machine, each tried in a throw-away child."""
    def mount_ns() -> None:
        unshare(CLONE_NEWNS)
        mount(None, "/", None, MS_REC | MS_PRIVATE)
        mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=64k")
        os.makedirs("/tmp/a")
        os.makedirs("/tmp/b")
        mount("/tmp/a", "/tmp/b", None, MS_BIND)
        mount(None, "/tmp/b", None, MS_REMOUNT | MS_BIND | MS_RDONLY)

    def hidepid() -> None:
        unshare(CLONE_NEWNS)
        mount(None, "/", None, MS_REC | MS_PRIVATE)
        mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=2")

    def setuid() -> None:
        drop_privileges(probe_uid, probe_uid)
        no_new_privs()

    return {
        "root": os.geteuid() == 0,
        "net": _in_child(lambda: unshare(CLONE_NEWNET)),
        "ipc": _in_child(lambda: unshare(CLONE_NEWIPC)),
        "mount": _in_child(mount_ns),
        "hidepid": _in_child(hidepid),
        "setuid": os.geteuid() == 0 and _in_child(setuid),
        "no_new_privs": _in_child(no_new_privs),
    }


def main(argv: list[str]) -> int:
    if argv[:1] == ["--probe"]:
        print(json.dumps(probe(int(argv[1]) if len(argv) > 1 else 65534)))
        return 0
    if len(argv) < 3 or argv[1] != "--":
        sys.stderr.write("usage: python -I -m autograder.sandbox.launch PLAN_JSON -- CMD...\n")
        return 2
    run(json.loads(argv[0]), argv[2:])
    return EXIT_SETUP_FAILED  # not reached: run() execs or exits


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
