"""Confinement of the clean-process children: the kernel's sandbox, applied to each checker.

The clean-process server (:mod:`autograder.clean_process`) never runs student code, but each
child it forks reads what the kernel wrote: a ``.keras`` file parsed by Keras and HDF5, and
NumPy arrays. A crafted file must not reach more than the kernel could. So each child gets,
from the same machinery as the grading kernel (:mod:`.manager`, :mod:`.launch`):

* a uid of its own from the kernel range (:class:`~.manager.Slot`), no groups, ``no_new_privs``;
* new network, IPC and mount namespaces, with the same hidden paths and private ``/tmp``;
* a memory cgroup capping what the child adds to the server's memory (``clean_memory_limit``),
  plus ``RLIMIT_DATA`` at the child's inherited data size plus that cap (a single huge
  allocation fails with ``MemoryError`` at once), and the pids and CPU cgroups;
* a wall-clock limit (``clean_time_limit``), enforced by the server, and ``RLIMIT_CPU``;
* an environment reduced to ``env_passthrough``: the grader's credentials stay out.

The artifact folder, taken back by root when the kernel stopped, is handed to the child's uid
read-only (plain files with one link only; anything else stays root's and unreadable).

Each request gets a fresh :class:`CleanBox`; the grader builds the launch plan, the forked
child applies it with :func:`.launch.apply` before reading anything, and the grader kills
whatever the child left and frees the uid afterwards. A mechanism this machine lacks (not
root, no cgroups) is left out and logged once; ``c.Sandbox.required`` turns a missing one into
a refusal to grade, as for kernels.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from pathlib import Path
from typing import Any

from . import cgroups, ensure_private_dir
from .manager import (
    MECHANISMS, GiB, MiB, Sandbox, Slot, host, interpreter_reachable, kill_uid, mount_plan,
)


class CleanBox:
    """The uid, cgroups and launch plan of one clean-process child."""

    def __init__(self, settings: Sandbox, log) -> None:
        self.settings, self.log = settings, log
        s = settings
        self.slot: Slot | None = None
        self.cgroup: cgroups.KernelCgroup | None = None
        self.stage: Path | None = None
        self.uid: int | None = None
        self.active: dict[str, str] = {}
        self.closed = False
        root_ok = os.geteuid() == 0
        self.host = host(s.uid_base)
        probe = self.host.probe
        try:
            if root_ok:
                root = ensure_private_dir(Path(s.root_dir))
                self.slot = Slot.acquire(s, ensure_private_dir(root / "slots", 0o700))
                kill_uid(self.slot.uid)
                self.stage = Path(tempfile.mkdtemp(prefix=f"clean-{self.slot.uid}-",
                                                   dir=ensure_private_dir(root / "clean", 0o700)))
            namespaces = [n for n in ("net", "ipc") if probe.get(n) and (n != "net" or not s.network)]
            mount_ns = s.isolate_filesystem and bool(probe.get("mount")) and self.stage is not None
            if mount_ns:
                namespaces.append("mount")
            drop = (self.slot is not None and s.drop_privileges and bool(probe.get("setuid"))
                    and (mount_ns or interpreter_reachable()))
            if drop:
                self.uid = self.slot.uid
            if root_ok and self.host.layout.controllers:
                self.cgroup = cgroups.create(self.host.layout, f"clean-{self.uid or os.getpid()}",
                                             memory=s.clean_memory_limit, pids=s.pids_limit, cpus=s.cpus)
            rlimits = {"CORE": 0}
            if s.file_size_limit:
                rlimits["FSIZE"] = s.file_size_limit
            # RLIMIT_DATA counts what the child inherits from the server too: the child adds
            # its own data size to this budget when it applies the plan (``data_budget``).
            self.data_budget = s.clean_memory_limit if s.clean_memory_limit and s.memory_rlimit else 0
            if s.clean_time_limit:
                rlimits["CPU"] = s.clean_time_limit
            self.plan: dict[str, Any] = {
                "cgroup_procs": self.cgroup.procs_files if self.cgroup else [],
                "namespaces": namespaces,
                "rlimits": rlimits,
                "uid": self.uid, "gid": self.uid,
                "cwd": "/",
                "home": "/tmp/home" if mount_ns else None,
            }
            if mount_ns:
                self.plan.update(mount_plan(s, self.host, readable=[], writable=[],
                                            stage=str(self.stage / ".stage"), log=log))
            self.env = self._environment(mount_ns)
            self._describe(rlimits, mount_ns)
            missing = [m for m in s.required if m in MECHANISMS and m not in self.active]
            if missing:
                raise RuntimeError("sandbox: required protection not available for the clean process "
                                   f"here: {', '.join(missing)}")
        except BaseException:
            self.close()
            raise

    def _environment(self, mount_ns: bool) -> dict[str, str]:
        """The child's environment: the allow-list, a private HOME and TMPDIR."""
        out = {name: value for name, value in os.environ.items()
               if any(name == p or (p.endswith("*") and name.startswith(p[:-1]))
                      for p in self.settings.env_passthrough)}
        home = "/tmp/home" if mount_ns else tempfile.gettempdir()
        out.update({"HOME": home, "TMPDIR": "/tmp" if mount_ns else tempfile.gettempdir(),
                    "PATH": "/usr/bin:/bin"})
        return out

    def _describe(self, rlimits: dict[str, int], mount_ns: bool) -> None:
        cg = self.cgroup.active if self.cgroup else {}
        active: dict[str, str] = {}
        if self.uid is not None:
            active["uid"] = f"uid/gid {self.uid}, no groups, no_new_privs"
        if "net" in self.plan["namespaces"]:
            active["net"] = "network namespace without interfaces"
        if mount_ns:
            active["mount"] = "mount namespace: grader paths hidden, private /tmp"
        memory = [f"cgroup {cg['memory']}"] if "memory" in cg else []
        if self.data_budget:
            memory.append(f"RLIMIT_DATA the server's data + {self.data_budget / GiB:.2f} GiB")
        if memory:
            active["memory"] = " + ".join(memory)
        if "pids" in cg:
            active["pids"] = f"cgroup {cg['pids']}"
        if "cpu" in cg:
            active["cpu"] = f"cgroup {cg['cpu']}"
        if self.settings.clean_time_limit:
            active["time"] = f"{self.settings.clean_time_limit} s per notebook"
        self.active = active
        summary = "; ".join(f"{k}: {v}" for k, v in active.items())
        inactive = [m for m in MECHANISMS if m not in active]
        if inactive:
            summary += f"; NOT active: {', '.join(inactive)}"
            if os.geteuid() != 0:
                summary += " (not root)"
            elif self.host.layout.problems:
                summary += f" ({'; '.join(self.host.layout.problems)})"
        key = "clean:" + summary.replace(str(self.uid), "N") if self.uid is not None else "clean:" + summary
        if key not in self.host.logged:  # once per grader process
            self.host.logged.add(key)
            self.log.info("Sandbox for the clean process: %s", summary)

    def hand_over(self, artifacts: Path) -> None:
        """Let the child's uid read the artifact folder: its plain files, read-only.

        Only directories and regular files with a single link change owner: chowning a hard
        link would give away the file it points to, and a symlink is never followed.
        """
        if self.uid is None:
            return
        for parent, dirs, files in os.walk(artifacts):
            for name in dirs + files:
                path = os.path.join(parent, name)
                info = os.lstat(path)
                if stat.S_ISDIR(info.st_mode):
                    os.lchown(path, self.uid, self.uid)
                    os.chmod(path, 0o500)
                elif stat.S_ISREG(info.st_mode) and info.st_nlink == 1:
                    os.lchown(path, self.uid, self.uid)
                    os.chmod(path, 0o400)
        os.lchown(artifacts, self.uid, self.uid)
        os.chmod(artifacts, 0o500)

    def memory_note(self) -> str:
        """Why a child died, when its cgroup says it ran out of memory ("" otherwise)."""
        stats = self.cgroup.stats() if self.cgroup else {}
        if stats.get("oom_kills"):
            return f"it went over its memory cap of {self.settings.clean_memory_limit / MiB:.0f} MiB"
        return ""

    def close(self) -> None:
        """Kill whatever the child left, remove its cgroups and stage folder, free the uid."""
        if self.closed:
            return
        self.closed = True
        try:
            if self.cgroup is not None:
                stats = self.cgroup.stats()
                if stats:
                    self.log.info("Sandbox: clean-process child ended; %s",
                                  ", ".join(f"{k} {v / MiB:.0f} MiB" if k == "memory_peak" else f"{k} {v}"
                                            for k, v in stats.items()))
                left = self.cgroup.remove()
                if left:
                    self.log.warning("sandbox: could not remove cgroups %s", left)
            if self.uid is not None:
                kill_uid(self.uid)
            if self.stage is not None:
                shutil.rmtree(self.stage, ignore_errors=True)
        finally:
            if self.slot is not None:
                self.slot.release()
