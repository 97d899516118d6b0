"""The grader side of the sandbox: settings, per-kernel resources and the kernel manager.

nbgrader's Execute creates one kernel manager per notebook. :class:`SandboxedExecute` makes that
a :class:`SandboxedKernelManager` (nbgrader 0.9's ``Execute.__init__`` hard-codes
``kernel_manager_class``, so ``c.Execute.kernel_manager_class`` alone is silently ignored). For
each kernel the manager

* takes a uid from a reserved range (one per running kernel, held with a lock file, so
  concurrent graders never share one) and kills anything a crashed grader left running as it;
* creates a private directory (connection file, ZMQ ``ipc`` sockets, a copy of the notebook's
  folder as the working directory), the kernel's cgroups, and hands it the artifact directory
  that :class:`~autograder.preprocessors.InjectCapture` prepared;
* writes the kernel an allow-listed environment: thread caps, a private HOME, the data staged
  in a readable place, none of the grader's other variables (credentials stay out);
* starts the kernel through :mod:`autograder.sandbox.launch`;
* kills the kernel after ``kernel_time_limit`` seconds or once it has sent ``output_limit``
  bytes of output; and when the kernel stops, kills everything left in its cgroups, removes
  them, takes the artifact directory back and releases the uid.

Every mechanism is probed once per grading process and used only where it works; the log says
which are active, and ``c.Sandbox.required`` turns a missing one into a refusal to grade.
"""

from __future__ import annotations

import atexit
import fcntl
import grp
import hashlib
import json
import os
import pwd
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.channels import AsyncZMQSocketChannel
from jupyter_client.manager import AsyncKernelManager
from traitlets import Bool, Float, Integer, List, Type, Unicode, default
from traitlets.config import LoggingConfigurable

from . import cgroups, claim_artifact_dir, ensure_private_dir, launch, sandbox_root
from ..preprocessors import SurvivingExecute

MECHANISMS = ("uid", "net", "mount", "memory", "pids", "cpu")
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS",
               "VECLIB_MAXIMUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")
# Never hidden, whatever the course root is: hiding one of these would break every kernel.
SYSTEM_DIRS = {"/", "/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/opt",
               "/proc", "/run", "/sbin", "/srv", "/sys", "/usr", "/var", "/home", "/mnt", "/media"}
# World-writable places get a private, size-limited tmpfs (charged to the kernel's memory cgroup).
SCRATCH_DIRS = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")
GiB, MiB = 2**30, 2**20


class Sandbox(LoggingConfigurable):
    """Settings, as ``c.Sandbox.<name>`` in ``nbgrader_config.py``. 0 means "no limit"."""

    enabled = Bool(True, help="Run grading kernels in the sandbox; False = plain kernels").tag(config=True)
    root_dir = Unicode(help="Root-owned directory for per-kernel state "
                            "(default $AUTOGRADER_SANDBOX_DIR or /run/nn-autograder)").tag(config=True)
    memory_limit = Integer(3 * GiB, help="Bytes of memory for the kernel and its children (cgroup)").tag(config=True)
    memory_rlimit = Bool(True, help="Also set RLIMIT_DATA to memory_limit, so that one huge "
                                    "allocation raises MemoryError instead of killing the kernel").tag(config=True)
    pids_limit = Integer(256, help="Processes and threads of one kernel (pids cgroup; RLIMIT_NPROC "
                                   "for the kernel's own uid)").tag(config=True)
    cpus = Float(1.0, help="CPUs one kernel may use (cpu cgroup quota)").tag(config=True)
    threads = Integer(0, help="Thread-pool size for OpenMP/BLAS/TensorFlow (0 = cpus rounded up)").tag(config=True)
    file_size_limit = Integer(256 * MiB, help="Largest file the kernel may write (RLIMIT_FSIZE)").tag(config=True)
    scratch_size = Integer(512 * MiB, help="Size of each private tmpfs: /tmp, /var/tmp, /dev/shm and the "
                                           "kernel's own folder (its working directory)").tag(config=True)
    artifact_size_limit = Integer(512 * MiB, help="Size of the tmpfs holding the captured model and "
                                                  "arrays").tag(config=True)
    cpu_time_limit = Integer(0, help="CPU seconds per kernel (RLIMIT_CPU)").tag(config=True)
    kernel_time_limit = Integer(1800, help="Wall-clock seconds per kernel, i.e. per submission; the "
                                           "kernel is killed after that").tag(config=True)
    output_limit = Integer(32 * MiB, help="Bytes of output one kernel may send; the kernel is "
                                          "killed beyond that").tag(config=True)
    network = Bool(False, help="Leave the kernel in the grader's network (True) instead of a "
                               "network namespace without any interface").tag(config=True)
    isolate_filesystem = Bool(True, help="Mount namespace: hide grader-only paths, private /tmp").tag(config=True)
    drop_privileges = Bool(True, help="Run the kernel as a uid of its own from the reserved range").tag(config=True)
    uid_base = Integer(61000, help="First uid (and gid) of the reserved range").tag(config=True)
    uid_count = Integer(64, help="Size of the reserved range: at most this many kernels at once").tag(config=True)
    slot_wait = Integer(900, help="Seconds to wait for a free uid when all are in use").tag(config=True)
    hide_paths = List(Unicode(), help="More grader-only paths to hide from the kernel (the course "
                                      "root, the exchange, the gradebook and home directories are "
                                      "hidden anyway)").tag(config=True)
    readable_paths = List(Unicode(), help="More paths the kernel may read even inside hidden ones").tag(config=True)
    env_passthrough = List(Unicode(), [
        "LANG", "LANGUAGE", "LC_*", "TZ", "TF_CPP_MIN_LOG_LEVEL", "TF_ENABLE_ONEDNN_OPTS",
        "PYTHONWARNINGS", "PYTHONHASHSEED", "AUTOGRADER_LANG", "AUTOGRADER_OFFLINE", "JPY_SESSION_NAME",
    ], help="Grader environment variables the kernel gets (trailing * = prefix)").tag(config=True)
    required = List(Unicode(), help=f"Mechanisms that must be active, else grading stops: "
                                    f"any of {MECHANISMS}").tag(config=True)
    clean_memory_limit = Integer(2 * GiB, help="Bytes of memory one clean-process child may add to "
                                               "what it inherits from its server (cgroup and "
                                               "RLIMIT_DATA)").tag(config=True)
    clean_time_limit = Integer(600, help="Wall-clock seconds one clean-process child may take to "
                                         "check a notebook; it is killed after that").tag(config=True)

    @default("root_dir")
    def _root_dir_default(self) -> str:
        return str(sandbox_root())

    @property
    def thread_count(self) -> int:
        return self.threads or max(1, int(-(-self.cpus // 1)) if self.cpus > 0 else os.cpu_count() or 1)


# --- what this machine allows (probed once per grading process) ------------------------------


@dataclass
class Host:
    probe: dict[str, bool]
    layout: cgroups.Layout
    logged: set[str] = field(default_factory=set)


_HOST: Host | None = None
_HOST_LOCK = threading.Lock()


def host(uid_probe: int) -> Host:
    global _HOST
    with _HOST_LOCK:
        if _HOST is None:
            try:
                out = subprocess.run([sys.executable, "-I", "-m", "autograder.sandbox.launch", "--probe",
                                      str(uid_probe)], capture_output=True, text=True, timeout=60, check=True)
                probe = json.loads(out.stdout)
            except (OSError, subprocess.SubprocessError, ValueError):
                probe = {}
            _HOST = Host(probe, cgroups.detect() if os.geteuid() == 0 else cgroups.Layout(problems=["not root"]))
        return _HOST


# --- uids --------------------------------------------------------------------------------------


def _known_id(uid: int) -> bool:
    try:
        pwd.getpwuid(uid)
        return True
    except KeyError:
        pass
    try:
        grp.getgrgid(uid)
        return True
    except KeyError:
        return False


def processes_of(uid: int) -> list[int]:
    """Pids whose real or effective uid is ``uid``."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/status") as status:
                for line in status:
                    if line.startswith("Uid:"):
                        if str(uid) in line.split()[1:3]:
                            found.append(int(entry.name))
                        break
        except OSError:
            continue
    return found


def kill_uid(uid: int, timeout: float = 5.0) -> bool:
    """SIGKILL every process running as ``uid`` (a reserved uid: nothing else runs as it)."""
    deadline = time.monotonic() + timeout
    while True:
        pids = processes_of(uid)
        if not pids:
            return True
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)


@dataclass
class Slot:
    uid: int
    fd: int

    @classmethod
    def acquire(cls, settings: Sandbox, directory: Path) -> Slot:
        deadline = time.monotonic() + settings.slot_wait
        while True:
            for uid in range(settings.uid_base, settings.uid_base + settings.uid_count):
                if uid == 0 or _known_id(uid):
                    continue
                fd = os.open(directory / f"{uid}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(fd)
                    continue
                return cls(uid, fd)
            if time.monotonic() > deadline:
                raise RuntimeError(f"sandbox: all {settings.uid_count} kernel uids are in use")
            time.sleep(0.5)

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)  # closing drops the flock
            self.fd = -1


# --- files -------------------------------------------------------------------------------------


def _chown_tree(path: Path, uid: int, gid: int) -> None:
    os.lchown(path, uid, gid)
    for parent, dirs, files in os.walk(path):
        for name in dirs + files:
            os.lchown(os.path.join(parent, name), uid, gid)


def mount_private_tmpfs(path: Path, size: int, uid: int, *, noexec: bool = False) -> bool:
    """A size-limited tmpfs owned by ``uid`` on ``path`` (in the grader's namespace), so that what
    the kernel writes there is bounded in bytes and files, and charged to its memory cgroup."""
    flags = launch.MS_NOSUID | launch.MS_NODEV | (launch.MS_NOEXEC if noexec else 0)
    try:
        launch.mount("tmpfs", str(path), "tmpfs", flags, f"size={int(size)},mode=0700,uid={uid},gid={uid}")
    except launch.SetupError:
        return False
    return True


def unmount(path: Path) -> None:
    launch._libc.umount2(str(path).encode(), 2)  # MNT_DETACH; an error means "was not mounted"


def take_back(directory: Path) -> None:
    """Make a directory the kernel wrote root's again, keeping only plain files and folders.

    The clean process reads it as root: a symlink (to a secret), a FIFO (that blocks the reader)
    or a hard link planted by the kernel is removed, not followed.
    """
    for parent, dirs, files in os.walk(directory, topdown=False):
        for name in dirs + files:
            path = os.path.join(parent, name)
            info = os.lstat(path)
            if stat.S_ISDIR(info.st_mode):
                os.lchown(path, 0, 0)
                os.chmod(path, 0o700)
            elif stat.S_ISREG(info.st_mode) and info.st_nlink == 1:
                os.lchown(path, 0, 0)
            else:
                os.unlink(path)
    os.lchown(directory, 0, 0)
    os.chmod(directory, 0o700)


def _under(path: str, parent: str) -> bool:
    return path == parent or path.startswith(parent.rstrip("/") + "/")


def _collapse(paths: list[str]) -> list[str]:
    """Drop the paths that lie inside another one of the list."""
    kept: list[str] = []
    for p in sorted(set(paths)):
        if not any(_under(p, k) for k in kept):
            kept.append(p)
    return kept


def _stage_copy(source: Path, data_dir: Path) -> Path:
    """A world-readable copy of ``source`` under ``data_dir``, made once (atomically)."""
    info = source.stat()
    tag = hashlib.sha256(f"{source.resolve()}|{info.st_size}|{info.st_mtime_ns}".encode()).hexdigest()[:16]
    final = data_dir / tag
    target = final / source.name
    if target.exists():
        return target
    tmp = Path(tempfile.mkdtemp(prefix=".stage-", dir=data_dir))
    try:
        if source.is_dir():
            shutil.copytree(source, tmp / source.name, symlinks=False)
        else:
            shutil.copy2(source, tmp / source.name)
        for parent, dirs, files in os.walk(tmp):
            os.chmod(parent, 0o755)
            for name in files:
                os.chmod(os.path.join(parent, name), 0o644)
        try:
            os.rename(tmp, final)
        except OSError:  # another grader staged it first
            pass
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


_DATA_ENV: dict[str, str] | None = None


def stage_data(data_dir: Path, network: bool) -> dict[str, str]:
    """Environment that makes the kernel load exactly the data the clean-process verdict uses.

    The grader resolves the data source (``autograder.data``'s precedence) and copies it where
    the kernel can read it; a kernel without network gets the grader's download or the sample.
    """
    global _DATA_ENV
    if _DATA_ENV is not None:
        return _DATA_ENV
    from .. import data

    env: dict[str, str] = {}
    key, _ = data._resolve()
    if key[0] == "fallback" and not network and not data._offline():
        data.load_dataset(announce=False)  # download now, as the clean process would
        key, _ = data._resolve()
    if key[0] == "local":
        env[data.MNIST_ENV] = str(_stage_copy(Path(key[1]), data_dir))
    else:
        sample_dir = data_dir / "sample"
        sample_dir.mkdir(mode=0o755, exist_ok=True)
        target = sample_dir / data.SAMPLE_CACHE_NAME
        if data._read_sample_cache(target) is None:
            grader_cache = data._sample_cache_file()
            if data._read_sample_cache(grader_cache) is not None:
                target = _stage_copy(grader_cache, data_dir)
                sample_dir = target.parent
            else:
                data._load_sample(target)  # builds the split and writes it, readable by all
        env[data.CACHE_ENV] = str(sample_dir)
    if not network:
        env[data.OFFLINE_ENV] = "1"
    _DATA_ENV = env
    return env


def interpreter_reachable() -> bool:
    """Without a mount namespace, another uid needs "other" access to the interpreter."""
    for path in {os.path.realpath(sys.executable), sys.base_prefix, sys.prefix}:
        parts = Path(path).parts
        for i in range(1, len(parts) + 1):
            mode = os.stat(os.path.join(*parts[:i])).st_mode
            if not mode & 0o001:
                return False
    return True


def hidden_paths(settings: Sandbox) -> list[str]:
    """Grader-only paths a sandboxed process must not see: course root, exchange, gradebook, homes."""
    s = settings
    config = s.config
    paths = [os.getcwd(), os.path.expanduser("~"), pwd.getpwuid(0).pw_dir, *s.hide_paths]
    course_root = config.get("CourseDirectory", {}).get("root")
    if isinstance(course_root, str) and course_root:
        paths.append(course_root)
    exchange = config.get("Exchange", {}).get("root")
    paths.append(exchange if isinstance(exchange, str) and exchange else "/srv/nbgrader/exchange")
    db_url = config.get("CourseDirectory", {}).get("db_url")
    if isinstance(db_url, str) and db_url.startswith("sqlite:///"):
        paths.append(db_url[len("sqlite:///"):])
    hidden = []
    for p in paths:
        real = os.path.realpath(os.path.expanduser(p))
        if real in SYSTEM_DIRS or not os.path.lexists(real):
            continue
        hidden.append(real)
    return sorted(set(hidden))


def mount_plan(settings: Sandbox, host_info: Host, *, readable: list[str], writable: list[str],
               stage: str, log) -> dict[str, Any]:
    """The mount part of a launch plan: hide grader paths, private scratch, expose what is needed.

    Shared by the grading kernel and the clean-process children: both see the Python
    installation, this package and ``readable`` read-only, ``writable`` read-write, and
    nothing of the course.
    """
    s = settings
    import autograder

    prefixes = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
                os.path.dirname(os.path.realpath(sys.executable))]
    real_prefixes = [os.path.realpath(p) for p in prefixes]
    # sys.path entries inside the installation (site-packages, .pth additions there); a script's
    # own folder or a test runner's additions are not exposed unless configured.
    in_prefix = [p for p in sys.path if os.path.isabs(p) and os.path.exists(p)
                 and any(_under(os.path.realpath(p), r) for r in real_prefixes)]
    python_path = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if os.path.isabs(p)]
    needed = [*prefixes, *in_prefix, *python_path, str(Path(autograder.__file__).parent),
              *readable, *s.readable_paths]
    hidden = hidden_paths(s)
    shown = []
    for p in {os.path.realpath(p) for p in needed}:
        if p in hidden:  # exposing it would undo the hiding: hiding wins
            if p in s.readable_paths or p in python_path:
                log.warning("sandbox: %s is both readable and hidden; it stays hidden", p)
            continue
        shown.append(p)
    shown = _collapse(shown)
    expose = [[p, False] for p in shown] + [[p, True] for p in writable]
    scratch = sorted({os.path.realpath(d) for d in SCRATCH_DIRS if os.path.isdir(d)})
    return {"hide": hidden, "scratch": [[d, s.scratch_size] for d in scratch],
            "expose": expose, "stage": stage, "hidepid": bool(host_info.probe.get("hidepid"))}


# --- one kernel's sandbox ---------------------------------------------------------------------


class OutputBudget:
    """Counts the bytes a kernel sends on IOPub; past the limit, ``on_exceeded`` runs once."""

    def __init__(self, limit: int, on_exceeded) -> None:
        self.limit, self.spent, self.exceeded = limit, 0, False
        self._on_exceeded = on_exceeded

    def spend(self, n: int) -> None:
        self.spent += n
        if self.limit and self.spent > self.limit and not self.exceeded:
            self.exceeded = True
            self._on_exceeded()


class KernelBox:
    """The uid, directories, cgroups, timer and report of one sandboxed kernel."""

    def __init__(self, settings: Sandbox, log) -> None:
        self.settings, self.log = settings, log
        self.root = ensure_private_dir(Path(settings.root_dir))
        self.host = host(settings.uid_base)
        probe = self.host.probe
        self.slot: Slot | None = None
        self.cgroup: cgroups.KernelCgroup | None = None
        self.artifacts: Path | None = None
        self.timer: threading.Timer | None = None
        self.closed = False
        self._lock = threading.Lock()  # the time-limit timer thread vs. close()
        self.stop_reason: str | None = None
        self.active: dict[str, str] = {}
        self.last_stats: dict[str, int] = {}
        self.uid: int | None = None
        if os.geteuid() == 0:
            self.slot = Slot.acquire(settings, ensure_private_dir(self.root / "slots", 0o700))
            kill_uid(self.slot.uid)  # a crashed grader's kernel must not share the uid with this one
        self.name = f"uid-{self.slot.uid}" if self.slot else f"pid-{os.getpid()}-{id(self)}"
        kernels = ensure_private_dir(self.root / "kernels")
        self.dir = Path(tempfile.mkdtemp(prefix=f"{self.name}-", dir=kernels))
        self.namespaces = [n for n in ("net", "ipc") if probe.get(n) and (n != "net" or not settings.network)]
        self.mount_ns = settings.isolate_filesystem and bool(probe.get("mount"))
        if self.mount_ns:
            self.namespaces.append("mount")
        self.drop = (self.slot is not None and settings.drop_privileges and bool(probe.get("setuid"))
                     and (self.mount_ns or self._interpreter_reachable()))
        self.dir_tmpfs = self.artifacts_tmpfs = False
        if self.drop:
            self.uid = self.slot.uid
            self._revoke_stale(self.uid)
            self.dir_tmpfs = mount_private_tmpfs(self.dir, settings.scratch_size, self.uid)
            if not self.dir_tmpfs:
                os.chown(self.dir, self.uid, self.uid)
                os.chmod(self.dir, 0o700)
        else:
            os.chmod(self.dir, 0o700)
        atexit.register(self.close)

    # -- set-up -----------------------------------------------------------------------------

    def _interpreter_reachable(self) -> bool:
        return interpreter_reachable()

    def _revoke_stale(self, uid: int) -> None:
        """A crashed grader's directories for this uid: take them back (artifacts) or remove them."""
        for d in (self.root / "kernels").glob(f"uid-{uid}-*"):
            if d != self.dir:
                unmount(d)
                shutil.rmtree(d, ignore_errors=True)
        artifacts = self.root / "artifacts"
        if artifacts.is_dir():
            for d in artifacts.iterdir():
                try:
                    if d.lstat().st_uid == uid:
                        unmount(d)
                        take_back(d)
                except OSError:
                    pass

    def prepare(self, cwd: str | None, env: dict[str, str]) -> dict[str, Any]:
        """Directories, cgroups and the launch plan; returns the kernel's env and cwd."""
        s = self.settings
        uid, gid = (self.uid, self.uid) if self.drop else (None, None)
        work = self.dir / "work"
        if cwd and Path(cwd).is_dir():
            too_big = lambda d, names: [n for n in names if (Path(d) / n).is_file()  # noqa: E731
                                        and (Path(d) / n).stat().st_size > s.file_size_limit]
            shutil.copytree(cwd, work, symlinks=True, ignore=too_big)
        else:
            work.mkdir()
        home = "/tmp/home" if self.mount_ns else str(self.dir / "home")
        if not self.mount_ns:
            Path(home).mkdir(mode=0o700)
            (self.dir / "tmp").mkdir(mode=0o700)
        self.artifacts = claim_artifact_dir()
        if self.drop:
            _chown_tree(work, uid, gid)
            if not self.mount_ns:
                _chown_tree(self.dir / "home", uid, gid)
                _chown_tree(self.dir / "tmp", uid, gid)
            if self.artifacts is not None and self.artifacts.is_dir():
                self.artifacts_tmpfs = mount_private_tmpfs(self.artifacts, s.artifact_size_limit, uid,
                                                           noexec=True)
                if not self.artifacts_tmpfs:
                    os.chown(self.artifacts, uid, gid)
                    os.chmod(self.artifacts, 0o700)
        if self.host.layout.controllers:
            self.cgroup = cgroups.create(self.host.layout, self.name, memory=s.memory_limit,
                                         pids=s.pids_limit, cpus=s.cpus)
        data_dir = ensure_private_dir(self.root / "data", 0o755)
        kernel_env = self._environment(env, home, stage_data(data_dir, network="net" not in self.namespaces))
        rlimits = {"CORE": 0}
        if s.file_size_limit:
            rlimits["FSIZE"] = s.file_size_limit
        if s.memory_limit and s.memory_rlimit:
            rlimits["DATA"] = s.memory_limit
        has_pids_cgroup = self.cgroup is not None and "pids" in self.cgroup.active
        if s.pids_limit and self.drop and not has_pids_cgroup:
            rlimits["NPROC"] = s.pids_limit  # the fallback; it counts the uid's tasks, so needs a uid of its own
        if s.cpu_time_limit:
            rlimits["CPU"] = s.cpu_time_limit
        plan = {
            "cgroup_procs": self.cgroup.procs_files if self.cgroup else [],
            "namespaces": self.namespaces,
            "rlimits": rlimits,
            "uid": uid, "gid": gid,
            "cwd": str(work),
            "home": home,
        }
        if self.mount_ns:
            plan.update(self._mount_plan(data_dir))
        self.plan = plan
        self._describe(rlimits)
        unknown = sorted(set(s.required) - set(MECHANISMS))
        if unknown:
            raise ValueError(f"c.Sandbox.required: unknown {unknown}; choose from {MECHANISMS}")
        missing = [m for m in s.required if m not in self.active]
        if missing:
            raise RuntimeError(f"sandbox: required protection not available here: {', '.join(missing)}")
        return {"env": kernel_env, "cwd": str(work)}

    def _environment(self, env: dict[str, str], home: str, data_env: dict[str, str]) -> dict[str, str]:
        s = self.settings
        out: dict[str, str] = {}
        for name, value in env.items():
            if any(name == p or (p.endswith("*") and name.startswith(p[:-1])) for p in s.env_passthrough):
                out[name] = value
        tmp = "/tmp" if self.mount_ns else str(self.dir / "tmp")
        bin_dir = os.path.dirname(sys.executable)
        out.update({
            "PATH": os.pathsep.join([bin_dir, "/usr/local/bin", "/usr/bin", "/bin"]),
            "HOME": home, "TMPDIR": tmp, "USER": "student", "LOGNAME": "student",
            "MPLCONFIGDIR": f"{home}/.matplotlib", "IPYTHONDIR": f"{home}/.ipython",
            "JUPYTER_CONFIG_DIR": f"{home}/.jupyter", "JUPYTER_DATA_DIR": f"{home}/.local/share/jupyter",
            "JUPYTER_RUNTIME_DIR": f"{home}/.local/share/jupyter/runtime",
            "XDG_CACHE_HOME": f"{home}/.cache", "XDG_CONFIG_HOME": f"{home}/.config",
            "KERAS_HOME": f"{home}/.keras", "PYTHONNOUSERSITE": "1",
        })
        out.update({name: str(s.thread_count) for name in THREAD_VARS})
        out.update(data_env)
        return out

    def _mount_plan(self, data_dir: Path) -> dict[str, Any]:
        writable = [str(self.dir)] + ([str(self.artifacts)] if self.artifacts else [])
        return mount_plan(self.settings, self.host, readable=[str(data_dir)], writable=writable,
                          stage=str(self.dir / ".stage"), log=self.log)

    def _describe(self, rlimits: dict[str, int]) -> None:
        s = self.settings
        cg = self.cgroup.active if self.cgroup else {}
        active: dict[str, str] = {}
        if self.drop:
            active["uid"] = f"uid/gid {self.uid}, no groups, no_new_privs"
        if "net" in self.namespaces:
            active["net"] = "network namespace without interfaces; ZMQ over ipc sockets"
        if self.mount_ns:
            hidden = ", ".join(self.plan["hide"])
            scratch = " ".join(d for d, _ in self.plan["scratch"])
            active["mount"] = f"mount namespace: hidden {hidden}; private tmpfs {scratch}" + (
                "; /proc shows own processes only" if self.plan.get("hidepid") else "")
        memory = [f"cgroup {cg['memory']}"] if "memory" in cg else []
        if "DATA" in rlimits:
            memory.append(f"RLIMIT_DATA {rlimits['DATA'] / GiB:.2f} GiB")
        if memory:
            active["memory"] = " + ".join(memory)
        pids = [f"cgroup {cg['pids']}"] if "pids" in cg else []
        if "NPROC" in rlimits:
            pids.append(f"RLIMIT_NPROC {rlimits['NPROC']}")
        if pids:
            active["pids"] = " + ".join(pids)
        if "cpu" in cg:
            active["cpu"] = f"cgroup {cg['cpu']}"
        active["threads"] = f"{s.thread_count} (OMP/BLAS/TF thread variables)"
        files = [f"RLIMIT_FSIZE {rlimits['FSIZE'] / MiB:.0f} MiB"] if "FSIZE" in rlimits else []
        if self.dir_tmpfs:
            files.append(f"own folder on a {s.scratch_size / MiB:.0f} MiB tmpfs")
        if self.artifacts_tmpfs:
            files.append(f"artifacts on a {s.artifact_size_limit / MiB:.0f} MiB tmpfs")
        if files:
            active["files"] = ", ".join(files)
        if "CPU" in rlimits:
            active["cpu_time"] = f"RLIMIT_CPU {rlimits['CPU']} s"
        if s.kernel_time_limit:
            active["time"] = f"{s.kernel_time_limit} s per kernel"
        if s.output_limit:
            active["output"] = f"{s.output_limit / MiB:.0f} MiB per kernel"
        self.active = active
        summary = "; ".join(f"{k}: {v}" for k, v in active.items())
        inactive = [m for m in MECHANISMS if m not in active]
        if inactive:
            summary += f"; NOT active: {', '.join(inactive)}"
            if self.host.layout.problems:
                summary += f" ({'; '.join(self.host.layout.problems)})"
        if summary not in self.host.logged:  # the full line once per grader process
            self.host.logged.add(summary)
            self.log.info("Sandbox for grading kernels: %s", summary)

    def wrap(self, cmd: list[str]) -> list[str]:
        return [sys.executable, "-I", "-m", "autograder.sandbox.launch", json.dumps(self.plan), "--", *cmd]

    # -- while running ------------------------------------------------------------------------

    def start_timer(self) -> None:
        if self.settings.kernel_time_limit and self.timer is None:
            self.timer = threading.Timer(self.settings.kernel_time_limit, self.stop,
                                         args=(f"time limit of {self.settings.kernel_time_limit} s",))
            self.timer.daemon = True
            self.timer.start()

    def stop(self, reason: str, pid: int | None = None) -> None:
        """Kill the kernel and everything it started (a no-op once closed: the uid may be reused)."""
        with self._lock:
            if self.closed:
                return
            if self.stop_reason is None:
                self.stop_reason = reason
                self.log.warning("Sandbox: stopping the kernel (%s)", reason)
            self.kill_processes(pid)

    def kill_processes(self, pid: int | None = None) -> None:
        if pid is not None:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        if self.cgroup is not None and self.cgroup.dirs:
            self.cgroup.kill_all()
        if self.drop and self.uid is not None:
            kill_uid(self.uid)

    def _copy_out_artifacts(self) -> None:
        """Move the kernel's tmpfs contents (plain files and folders only) onto the real folder."""
        assert self.artifacts is not None
        staging = Path(tempfile.mkdtemp(prefix=".out-", dir=self.artifacts.parent))
        try:
            for parent, dirs, files in os.walk(self.artifacts):
                rel = Path(parent).relative_to(self.artifacts)
                for name in dirs:
                    if stat.S_ISDIR(os.lstat(Path(parent) / name).st_mode):
                        (staging / rel / name).mkdir(mode=0o700)
                for name in files:
                    source = Path(parent) / name
                    info = os.lstat(source)
                    if stat.S_ISREG(info.st_mode) and info.st_nlink == 1:
                        shutil.copyfile(source, staging / rel / name, follow_symlinks=False)
            unmount(self.artifacts)
            for entry in staging.iterdir():
                os.rename(entry, self.artifacts / entry.name)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def stats(self) -> dict[str, int]:
        return self.cgroup.stats() if self.cgroup else {}

    def close(self) -> None:
        """Kill what is left, remove cgroups and directories, take the artifacts back, free the uid."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
        if self.timer is not None:
            self.timer.cancel()
        try:
            if self.cgroup is not None:
                self.last_stats = self.stats()
                self.log.info("Sandbox: kernel %s ended%s; %s", self.name,
                              f" ({self.stop_reason})" if self.stop_reason else "",
                              ", ".join(f"{k} {v / MiB:.0f} MiB" if k == "memory_peak" else f"{k} {v}"
                                        for k, v in self.last_stats.items()) or "no usage figures")
                left = self.cgroup.remove()
                if left:
                    self.log.warning("sandbox: could not remove cgroups %s", left)
            if self.drop and self.uid is not None:
                kill_uid(self.uid)
                if self.artifacts is not None and self.artifacts.is_dir():
                    if self.artifacts_tmpfs:
                        self._copy_out_artifacts()
                    take_back(self.artifacts)  # the next kernel with this uid cannot touch it
            if self.dir_tmpfs:
                unmount(self.dir)
            shutil.rmtree(self.dir, ignore_errors=True)
        finally:
            if self.slot is not None:
                self.slot.release()
            atexit.unregister(self.close)


# --- jupyter_client classes ----------------------------------------------------------------------


class BudgetedIOPubChannel(AsyncZMQSocketChannel):
    """The IOPub channel, counting the bytes of every message against the kernel's budget."""

    budget: OutputBudget | None = None

    async def _recv(self, **kwargs: Any) -> dict[str, Any]:
        assert self.socket is not None
        frames = await self.socket.recv_multipart(**kwargs)
        if self.budget is not None:
            self.budget.spend(sum(len(f) for f in frames))
        _, smsg = self.session.feed_identities(frames)
        return self.session.deserialize(smsg)


class SandboxedKernelClient(AsyncKernelClient):
    iopub_channel_class = Type(BudgetedIOPubChannel)

    @property
    def iopub_channel(self) -> Any:
        channel = super().iopub_channel
        budget = getattr(self.parent, "output_budget", None)
        if budget is not None and isinstance(channel, BudgetedIOPubChannel):
            channel.budget = budget
        return channel


class SandboxedKernelManager(AsyncKernelManager):
    """An AsyncKernelManager whose kernels run in the sandbox (see the module docstring)."""

    client_factory = Type(SandboxedKernelClient, klass=AsyncKernelClient)
    box: KernelBox | None = None
    output_budget: OutputBudget | None = None

    @property
    def sandbox(self) -> Sandbox:
        if not hasattr(self, "_sandbox_settings"):
            self._sandbox_settings = Sandbox(parent=self)
        return self._sandbox_settings

    async def _async_pre_start_kernel(self, **kw: Any) -> tuple[list[str], dict[str, Any]]:
        if not self.sandbox.enabled:
            return await super()._async_pre_start_kernel(**kw)
        if self.box is None or self.box.closed:
            self.box = KernelBox(self.sandbox, self.log)
            try:
                kw.update(self.box.prepare(kw.get("cwd"), dict(kw.get("env") or os.environ)))
            except BaseException:
                self.box.close()
                raise
            self.transport = "ipc"  # no TCP: the kernel has no network; Unix sockets in its own dir
            self.ip = str(self.box.dir / "ipc")
            self.connection_file = str(self.box.dir / "connection.json")
        else:  # a restart: same directories and connection file
            kw.update({"env": self._launch_args.get("env"), "cwd": self._launch_args.get("cwd")})
        self.output_budget = OutputBudget(self.sandbox.output_limit, self._output_exceeded)
        try:
            cmd, kw = await super()._async_pre_start_kernel(**kw)
            if self.box.drop:
                os.chown(self.connection_file, self.box.uid, self.box.uid)
        except BaseException:
            self.box.close()
            raise
        return self.box.wrap(cmd), kw

    async def _async_post_start_kernel(self, **kw: Any) -> None:
        await super()._async_post_start_kernel(**kw)
        if self.box is not None:
            self.box.start_timer()

    def _output_exceeded(self) -> None:
        if self.box is not None:
            pid = getattr(self.provisioner, "pid", None)
            self.box.stop(f"output limit of {self.sandbox.output_limit} bytes", pid)

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if self.box is not None:
            if restart:
                self.box.kill_processes()
            else:
                self.box.close()

    # AsyncKernelManager binds the public name to the base class's coroutine function, and nbclient
    # calls it directly when the kernel died; it must reach the override above.
    cleanup_resources = _async_cleanup_resources


class SandboxedExecute(SurvivingExecute):
    """SurvivingExecute with sandboxed kernels (``c.Sandbox.enabled = False`` turns that off)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("kernel_manager_class", SandboxedKernelManager)
        super().__init__(**kwargs)
