"""One cgroup per kernel: memory, process-count and CPU limits, and a reliable kill of everything in it.

cgroup v1 (one hierarchy per controller, e.g. ``/sys/fs/cgroup/memory``) is used for each
controller that is mounted there; controllers only found in a cgroup v2 hierarchy are used
there. Every kernel gets ``<hierarchy>/nn-autograder/<name>``. Standard library only: the
launcher (running as root, before it drops privileges) only writes its pid into the
``cgroup.procs`` files this module created.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

BASE = "nn-autograder"
CONTROLLERS = ("memory", "pids", "cpu", "freezer")
CPU_PERIOD_US = 100_000


def _mounts() -> tuple[dict[str, Path], Path | None]:
    """cgroup v1 mount point of each controller, and the cgroup v2 mount point (or None)."""
    v1: dict[str, Path] = {}
    v2: Path | None = None
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return v1, v2
    for line in lines:
        left, _, right = line.partition(" - ")
        fields, extra = left.split(), right.split()
        if len(fields) < 5 or len(extra) < 3:
            continue
        mount_point, fstype, options = Path(fields[4]), extra[0], extra[2].split(",")
        if fstype == "cgroup":
            for name in CONTROLLERS:
                if name in options:
                    v1.setdefault(name, mount_point)
        elif fstype == "cgroup2" and v2 is None:
            v2 = mount_point
    return v1, v2


def _write(path: Path, value: str) -> None:
    with open(path, "w") as out:
        out.write(value)


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""


@dataclass
class Layout:
    """Which hierarchy serves which controller on this machine (as seen by this process)."""

    v1: dict[str, Path] = field(default_factory=dict)  # controller -> <mount>/nn-autograder
    v2: Path | None = None  # <v2 mount>/nn-autograder, when some controller lives there
    v2_controllers: tuple[str, ...] = ()
    problems: list[str] = field(default_factory=list)

    @property
    def controllers(self) -> dict[str, str]:
        found = {name: "v1" for name in self.v1}
        found.update({name: "v2" for name in self.v2_controllers if name not in found})
        return found


def detect() -> Layout:
    """Find usable controllers: the base directory must exist or be creatable (root)."""
    layout = Layout()
    v1, v2 = _mounts()
    for name, mount in v1.items():
        base = mount / BASE
        try:
            base.mkdir(exist_ok=True)
            if name == "memory" and _read(base / "memory.use_hierarchy") == "0":
                _write(base / "memory.use_hierarchy", "1")  # limits must cover the kernel's children
            layout.v1[name] = base
        except OSError as exc:
            layout.problems.append(f"cgroup v1 {name}: {exc.strerror or exc}")
    wanted = [n for n in ("memory", "pids", "cpu") if n not in layout.v1]
    if v2 is not None and wanted:
        available = _read(v2 / "cgroup.controllers").split()
        usable = [n for n in wanted if n in available]
        if usable:
            base = v2 / BASE
            try:
                base.mkdir(exist_ok=True)
                for name in usable:
                    try:
                        _write(base / "cgroup.subtree_control", f"+{name}")
                    except OSError as exc:
                        layout.problems.append(f"cgroup v2 {name}: {exc.strerror or exc}")
                enabled = _read(base / "cgroup.subtree_control").split()
                layout.v2 = base
                layout.v2_controllers = tuple(n for n in usable if n in enabled)
            except OSError as exc:
                layout.problems.append(f"cgroup v2: {exc.strerror or exc}")
    return layout


@dataclass
class KernelCgroup:
    """The cgroups of one kernel. ``active`` says which limit is enforced by which hierarchy."""

    name: str
    dirs: dict[str, Path] = field(default_factory=dict)  # controller -> directory (v2: shared dir)
    active: dict[str, str] = field(default_factory=dict)  # e.g. {"memory": "v1 3.0 GiB"}

    @property
    def procs_files(self) -> list[str]:
        return sorted({str(d / "cgroup.procs") for d in self.dirs.values()})

    def pids(self) -> set[int]:
        found: set[int] = set()
        for d in set(self.dirs.values()):
            for line in _read(d / "cgroup.procs").split():
                found.add(int(line))
        return found

    def stats(self) -> dict[str, int]:
        """Peak memory, OOM kills and refused forks so far (what exists on this hierarchy)."""
        out: dict[str, int] = {}
        mem = self.dirs.get("memory")
        if mem is not None:
            peak = _read(mem / "memory.max_usage_in_bytes") or _read(mem / "memory.peak")
            if peak:
                out["memory_peak"] = int(peak)
            for source in (mem / "memory.oom_control", mem / "memory.events"):
                for line in _read(source).splitlines():
                    key, _, value = line.partition(" ")
                    if key == "oom_kill":
                        out["oom_kills"] = int(value)
        pids = self.dirs.get("pids")
        if pids is not None:
            current = _read(pids / "pids.current")
            if current:
                out["pids_current"] = int(current)
            for line in _read(pids / "pids.events").splitlines():
                key, _, value = line.partition(" ")
                if key == "max":
                    out["pids_refused"] = int(value)
        return out

    def kill_all(self, timeout: float = 5.0) -> bool:
        """SIGKILL every process in the cgroups (forks in flight included); True when empty."""
        v2 = {d for c, d in self.dirs.items() if self.active.get(c, "").startswith("v2")}
        for d in v2:
            try:
                _write(d / "cgroup.kill", "1")
            except OSError:
                pass
        freezer = self.dirs.get("freezer")
        frozen = False
        if freezer is not None:
            try:
                _write(freezer / "freezer.state", "FROZEN")
                frozen = True
            except OSError:
                pass
        deadline = time.monotonic() + timeout
        while True:
            pids = self.pids()
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            if frozen:  # frozen tasks cannot fork; thaw once all have their SIGKILL pending
                try:
                    _write(freezer / "freezer.state", "THAWED")
                except OSError:
                    pass
                frozen = False
                continue
            if not pids:
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)

    def remove(self) -> list[str]:
        """Kill what is left and remove the directories; returns the ones that stayed."""
        self.kill_all()
        left = []
        for d in sorted(set(self.dirs.values()), reverse=True):
            for _ in range(50):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)
            else:
                left.append(str(d))
        return left


def create(layout: Layout, name: str, *, memory: int, pids: int, cpus: float) -> KernelCgroup:
    """Create the kernel's cgroups with the given limits (0 = no limit for that resource).

    A limit that cannot be written is left out of ``active`` (and the caller falls back to an
    rlimit); a stale cgroup of the same name (a grader that crashed) is emptied first.
    """
    group = KernelCgroup(name)
    wanted = {"memory": memory > 0, "pids": pids > 0, "cpu": cpus > 0, "freezer": True}
    for controller, base in layout.v1.items():
        if wanted.get(controller):
            group.dirs[controller] = base / name
    if layout.v2 is not None:
        for controller in layout.v2_controllers:
            if wanted.get(controller) and controller not in group.dirs:
                group.dirs[controller] = layout.v2 / name
    for controller, d in list(group.dirs.items()):
        version = "v2" if layout.v2 is not None and d.parent == layout.v2 else "v1"
        stale = KernelCgroup(name, {controller: d}, {controller: version})
        if d.exists():
            stale.remove()
        try:
            d.mkdir(exist_ok=True)
            group.active[controller] = version + " " + _limit(d, controller, version,
                                                              memory=memory, pids=pids, cpus=cpus)
        except OSError as exc:
            del group.dirs[controller]
            group.active.pop(controller, None)
            layout.problems.append(f"cgroup {controller}: {exc.strerror or exc}")
            try:
                d.rmdir()
            except OSError:
                pass
    return group


def _limit(d: Path, controller: str, version: str, *, memory: int, pids: int, cpus: float) -> str:
    if controller == "memory":
        if version == "v1":
            _write(d / "memory.limit_in_bytes", str(memory))
            if (d / "memory.memsw.limit_in_bytes").exists():  # no swapping past the limit
                _write(d / "memory.memsw.limit_in_bytes", str(memory))
        else:
            _write(d / "memory.max", str(memory))
            if (d / "memory.swap.max").exists():
                _write(d / "memory.swap.max", "0")
        return f"{memory / 2**30:.2f} GiB"
    if controller == "pids":
        _write(d / "pids.max", str(pids))
        return f"max {pids}"
    if controller == "cpu":
        quota = max(1000, int(cpus * CPU_PERIOD_US))
        if version == "v1":
            _write(d / "cpu.cfs_period_us", str(CPU_PERIOD_US))
            _write(d / "cpu.cfs_quota_us", str(quota))
        else:
            _write(d / "cpu.max", f"{quota} {CPU_PERIOD_US}")
        return f"{cpus:g} CPU"
    return "kill switch"
