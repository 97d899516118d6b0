"""The grading kernel's sandbox (autograder/sandbox): real kernels running tiny notebooks.

Each test runs a few cells through nbgrader's Execute (SandboxedExecute, as the autograde chain
does) with small limits, and reads what the cells printed. The protections that need root
(uid, namespaces, cgroups) are skipped when the tests do not run as root. One test grades the
solution end to end with plain ``nbgrader autograde`` and the repository's configuration.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook
from traitlets.config import Config

from autograder import course, sandbox
from autograder.sandbox import cgroups, launch
from autograder.sandbox.manager import SandboxedExecute, SandboxedKernelManager, processes_of

ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not ROOT, reason="uid, namespaces and cgroups need root")
MiB = 2**20

# Small limits keep every kernel cheap; a test overrides what it exercises.
LIMITS = {"memory_limit": 512 * MiB, "pids_limit": 64, "file_size_limit": 16 * MiB,
          "kernel_time_limit": 60, "output_limit": 4 * MiB, "scratch_size": 64 * MiB}


class RecordingKernelManager(SandboxedKernelManager):
    """Remembers every manager, so a test can read the sandbox report after the kernel stopped."""

    made: list[RecordingKernelManager] = []

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        RecordingKernelManager.made.append(self)


def run(cells: list[str], *, cwd: Path | None = None, timeout: int = 30, **settings):
    """Execute ``cells`` in one sandboxed kernel; returns (text of each cell, the kernel's box)."""
    config = Config()
    config.Execute.timeout = timeout
    for name, value in {**LIMITS, **settings}.items():
        if name == "course_root":
            config.CourseDirectory.root = str(value)
        else:
            setattr(config.Sandbox, name, value)
    nb = new_notebook(cells=[new_code_cell(source) for source in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    RecordingKernelManager.made.clear()
    execute = SandboxedExecute(config=config, kernel_manager_class=RecordingKernelManager)
    workdir = cwd or Path(tempfile.mkdtemp(prefix="nn-sandbox-test-"))
    nb, _ = execute.preprocess(nb, {"metadata": {"path": str(workdir)}})
    texts = ["\n".join(o.get("text", "") or f"{o.get('ename', '')}: {o.get('evalue', '')}"
                       for o in cell.outputs).strip() for cell in nb.cells]
    km = RecordingKernelManager.made[-1]
    return texts, km.box


# --- identity, files, network ---------------------------------------------------------------


@needs_root
def test_kernel_runs_as_its_own_unprivileged_uid():
    artifacts = Path(sandbox.prepare_artifact_dir())
    try:
        texts, box = run([
            "import os; print(os.getuid(), os.geteuid(), os.getgid(), os.getgroups())",
            "status = open('/proc/self/status').read()\n"
            "print([l.split()[1] for l in status.splitlines() if l.startswith(('CapEff', 'NoNewPrivs'))])",
            "print([p for p in os.listdir('/proc') if p.isdigit()] == [str(os.getpid())])",
            f"open({str(artifacts / 'model.txt')!r}, 'w').write('saved'); print('artifact written')\n"
            f"os.symlink('/etc/shadow', {str(artifacts / 'manifest.json')!r}); os.mkfifo({str(artifacts / 'x.npy')!r})",
            f"try:\n    os.listdir({str(artifacts.parent)!r})\nexcept OSError as e:\n    print(type(e).__name__)",
            "print(os.environ['HOME'], os.environ['OMP_NUM_THREADS'], os.environ['TF_NUM_INTRAOP_THREADS'],"
            " 'SECRET_TOKEN' in os.environ)",
        ], cpus=1.0)
        uid = box.uid
        assert 61000 <= uid < 61064
        assert texts[0] == f"{uid} {uid} {uid} []"
        assert texts[1] == "['0000000000000000', '1']"  # no capabilities, no_new_privs
        assert texts[2] == "True"  # /proc shows the kernel's own process only
        assert texts[3] == "artifact written"
        assert texts[4] == "PermissionError"  # other kernels' artifact folders cannot be listed
        assert texts[5] == "/tmp/home 1 1 False"
        assert sorted(p.name for p in artifacts.iterdir()) == ["model.txt"]  # planted symlink and FIFO removed
        assert (artifacts / "model.txt").read_text() == "saved"
        assert artifacts.stat().st_uid == 0 and (artifacts / "model.txt").stat().st_uid == 0  # taken back
        assert set(box.active) >= {"uid", "net", "mount", "memory", "pids", "cpu", "files", "time"}
        assert not processes_of(uid)
        assert all(not (base / box.name).exists() for base in cgroups.detect().v1.values())
    finally:
        shutil.rmtree(artifacts, ignore_errors=True)


@pytest.fixture
def course_root():
    """A course folder outside /tmp (which the sandbox replaces anyway), as nbgrader lays it out."""
    root = Path(tempfile.mkdtemp(prefix="nn-sandbox-course-", dir="/run" if ROOT else None))
    os.chmod(root, 0o755)
    for path in ("source/nn_basics/nn_basics.ipynb", "submitted/bob/nn_basics/nn_basics.ipynb",
                 "autograded/alice/nn_basics/nn_basics.ipynb", "autograded/alice/nn_basics/helper.py"):
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text("{}")
    (root / "gradebook.db").write_text("grades")
    for parent, dirs, files in os.walk(root):
        os.chmod(parent, 0o755)
        for name in files:
            os.chmod(os.path.join(parent, name), 0o644)
    yield root
    shutil.rmtree(root, ignore_errors=True)


TARGETS = ("gradebook.db", "submitted/bob/nn_basics/nn_basics.ipynb", "source/nn_basics/nn_basics.ipynb")


@needs_root
def test_kernel_cannot_read_or_write_gradebook_other_students_or_source(course_root):
    """Grader-only paths are hidden by the mount namespace; the rest of the disk is read-only to
    the kernel's uid (file permissions), shown on a root-owned file outside the course."""
    outside = Path(tempfile.mkdtemp(prefix="nn-sandbox-other-", dir="/run"))
    os.chmod(outside, 0o755)
    (outside / "notes.txt").write_text("root's")
    os.chmod(outside / "notes.txt", 0o644)
    paths = [str(course_root / rel) for rel in TARGETS] + [str(outside / "notes.txt")]
    probe = "\n".join([
        "import errno, os",
        f"for path in {paths!r}:",
        "    for mode in ('a', 'r'):",
        "        try:",
        "            open(path, mode).close(); print(mode, 'ok')",
        "        except OSError as e:",
        "            print(mode, errno.errorcode[e.errno])",
        "print('cwd', sorted(os.listdir('.')))",
        "open('scratch.txt', 'w').write('mine'); print('own folder writable')",
        "open('/run/lock/nn-sandbox-test', 'w').write('x'); print('private /run/lock')",
    ])
    try:
        texts, _ = run([probe], cwd=course_root / "autograded/alice/nn_basics", course_root=course_root)
    finally:
        shutil.rmtree(outside)
    lines = texts[0].splitlines()
    results = [lines[i:i + 2] for i in range(0, 2 * len(paths), 2)]
    for write, read in results[:-1]:  # course files: not there at all
        assert write in ("a ENOENT", "a EROFS") and read == "r ENOENT", (write, read)
    assert results[-1] == ["a EACCES", "r ok"]  # elsewhere: readable, not writable
    assert "cwd ['helper.py', 'nn_basics.ipynb']" in lines  # a private copy of the notebook's folder
    assert "own folder writable" in lines and "private /run/lock" in lines
    assert not Path("/run/lock/nn-sandbox-test").exists()  # world-writable host folders are not shared
    assert (course_root / "gradebook.db").read_text() == "grades"
    assert not (course_root / "autograded/alice/nn_basics/scratch.txt").exists()


@needs_root
def test_without_a_mount_namespace_the_uid_is_dropped_only_if_python_is_reachable():
    """Degraded mode: no mount namespace. Here the venv's interpreter lives under /root (0700), so
    a dropped uid could not even start Python; the kernel then keeps the grader's uid and the log
    says that the uid protection is NOT active."""
    texts, box = run(["import os; print(os.getuid())"], isolate_filesystem=False)
    reachable = box._interpreter_reachable()
    assert ("uid" in box.active) == reachable
    assert texts == [str(box.uid if reachable else 0)]
    assert "mount" not in box.active and {"net", "memory", "pids"} <= set(box.active)


@needs_root
def test_kernel_cannot_open_a_network_connection():
    accepted = []
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    port = server.getsockname()[1]
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()  # the server works from here
        time.sleep(0.3)
        assert len(accepted) == 1
        texts, _ = run([
            "import socket\n"
            f"try:\n    socket.create_connection(('127.0.0.1', {port}), timeout=3); print('connected')\n"
            "except OSError as e:\n    print('refused', e.errno)",
        ])
    finally:
        stop.set()
        thread.join()
        server.close()
    assert texts[0].startswith("refused")
    assert len(accepted) == 1  # only the test's own connection


# --- limits -------------------------------------------------------------------------------------


def test_huge_allocation_raises_memory_error_and_the_kernel_goes_on():
    texts, _ = run(["try:\n    block = bytearray(2 * 2**30)\nexcept MemoryError:\n    print('MemoryError')",
                    "print('still alive')"])
    assert texts == ["MemoryError", "still alive"]


@needs_root
def test_memory_bomb_is_stopped_by_the_cgroup_and_grading_goes_on():
    bomb = "blocks = []\nwhile True:\n    blocks.append(bytearray(16 * 2**20))"
    start = time.monotonic()
    texts, box = run([bomb, "print('not reached')"], memory_rlimit=False, memory_limit=256 * MiB)
    assert "DeadKernelError" in texts[0] and texts[1] == ""
    assert box.last_stats.get("oom_kills", 0) >= 1
    assert time.monotonic() - start < 30
    texts, _ = run(["print('next submission')"])  # the grader is unaffected
    assert texts == ["next submission"]


@needs_root
def test_fork_bomb_is_bounded_by_the_pids_cap():
    bomb = "\n".join([
        "import os, time",
        "children = 0",
        "try:",
        "    while True:",
        "        pid = os.fork()",
        "        if pid == 0:",
        "            try:",
        "                while True:",
        "                    os.fork()",
        "            finally:",
        "                time.sleep(60)",
        "                os._exit(0)",
        "        children += 1",
        "except OSError as e:",
        "    print('fork refused after', children, 'children:', type(e).__name__)",
    ])
    texts, box = run([bomb, "print('kernel alive')"], pids_limit=40)
    assert texts[0].startswith("fork refused after"), texts[0]
    assert int(texts[0].split()[3]) < 40
    assert texts[1] == "kernel alive"
    assert box.last_stats.get("pids_refused", 0) > 0
    assert box.last_stats.get("pids_current", 99) <= 40
    assert not processes_of(box.uid)  # every bomb process was killed with the kernel


def test_infinite_loop_is_interrupted_by_the_cell_timeout():
    start = time.monotonic()
    texts, _ = run(["while True:\n    pass", "print('next cell')"], timeout=3)
    assert "CellTimeoutError" in texts[0] or "KeyboardInterrupt" in texts[0]
    assert texts[1] == "next cell"
    assert time.monotonic() - start < 25


def test_kernel_that_ignores_interrupts_is_killed_at_the_kernel_time_limit():
    cell = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"
    start = time.monotonic()
    texts, box = run([cell, "print('not reached')"], timeout=60, kernel_time_limit=4)
    assert "DeadKernelError" in texts[0]
    assert box.stop_reason.startswith("time limit")
    assert time.monotonic() - start < 25


def test_huge_file_write_is_stopped_by_rlimit_fsize():
    cell = "\n".join([
        "import errno",
        "try:",
        "    with open('big.bin', 'wb') as f:",
        "        for _ in range(64):",
        "            f.write(b'x' * 2**20)",
        "except OSError as e:",
        "    print('stopped', errno.errorcode[e.errno])",
        "import os; print(os.path.getsize('big.bin') // 2**20, 'MiB')",
    ])
    texts, _ = run([cell])
    assert texts[0] == "stopped EFBIG\n16 MiB"


@needs_root
def test_disk_filling_is_bounded_in_the_kernels_folders():
    artifacts = Path(sandbox.prepare_artifact_dir())
    fill = "\n".join([
        "import errno, os",
        "def fill(folder):",
        "    n = 0",
        "    try:",
        "        while True:",
        "            with open(os.path.join(folder, f'f{n}'), 'wb') as f:",
        "                f.write(b'x' * 2**20)",
        "            n += 1",
        "    except OSError as e:",
        "        return f'{errno.errorcode[e.errno]} after {n} MiB'",
        f"for folder in ('.', '/tmp', {str(artifacts)!r}):",
        "    print(fill(folder))",
    ])
    try:
        texts, box = run([fill], scratch_size=24 * MiB, artifact_size_limit=8 * MiB)
        lines = texts[0].splitlines()
        assert len(lines) == 3 and all(line.startswith("ENOSPC after ") for line in lines), lines
        assert [int(line.split()[2]) for line in lines][2] <= 8
        assert all(int(line.split()[2]) <= 24 for line in lines)
        assert len(list(artifacts.iterdir())) <= 9  # 8 full files and the one cut short, copied back
        assert not os.path.ismount(artifacts) and not box.dir.exists()
    finally:
        shutil.rmtree(artifacts, ignore_errors=True)


def test_output_flood_is_stopped_by_the_output_limit():
    start = time.monotonic()
    flood = "while True:\n    print('x' * 100_000, flush=True)"  # flush: the kernel's buffer does not fill first
    texts, box = run([flood, "print('not reached')"], output_limit=2 * MiB)
    assert "DeadKernelError" in texts[0]
    assert box.stop_reason.startswith("output limit")
    assert time.monotonic() - start < 25


def test_sandbox_can_be_turned_off():
    texts, box = run(["import os; print(os.getuid())"], enabled=False)
    assert texts == [str(os.geteuid())]
    assert box is None


def test_a_required_protection_that_is_not_active_stops_grading():
    with pytest.raises(RuntimeError, match="required protection not available here: uid"):
        run(["print('never runs')"], drop_privileges=False, required=["uid", "memory"])
    box = RecordingKernelManager.made[-1].box
    assert box.closed and not box.dir.exists()  # nothing left behind, the uid is free again


@needs_root
def test_launcher_refuses_to_start_a_kernel_it_cannot_confine(tmp_path):
    plan = {"cgroup_procs": [str(tmp_path / "missing" / "cgroup.procs")], "namespaces": []}
    proc = subprocess.run([sys.executable, "-I", "-m", "autograder.sandbox.launch", __import__("json").dumps(plan),
                           "--", sys.executable, "-c", "print('kernel started')"], capture_output=True, text=True)
    assert proc.returncode == launch.EXIT_SETUP_FAILED
    assert "kernel started" not in proc.stdout and "cannot start the kernel" in proc.stderr


# --- end to end ---------------------------------------------------------------------------------


@needs_root
def test_solution_gets_full_marks_under_plain_nbgrader_autograde(tmp_path):
    root = course.create_course(tmp_path / "course")
    course.run_nbgrader(root, "generate_assignment", course.ASSIGNMENT, "--force")
    source = nbformat.read(root / "source" / course.ASSIGNMENT / course.NOTEBOOK, as_version=4)
    course.submit(root, "alice", source)
    proc = course.run_nbgrader(root, "autograde", course.ASSIGNMENT, "--create", "--force")
    log = proc.stdout + proc.stderr
    assert "Sandbox for grading kernels: uid: uid/gid" in log
    assert "Sandbox for the clean process: uid: uid/gid" in log  # its checking child is confined too
    assert "NOT active" not in log
    results = course.autograded_results(root, "alice")
    assert results and all(r.score == r.max_score for r in results.values()), {
        k: (r.score, r.max_score, r.output[-300:]) for k, r in results.items()}
