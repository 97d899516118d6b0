"""Isolation and limits for the kernel that runs a student's notebook at grading time.

nbgrader runs each submission in a Jupyter kernel, and that kernel executes whatever the student
wrote. This package confines it:

* :mod:`.manager` - :class:`~.manager.SandboxedKernelManager`, the jupyter_client kernel manager
  that nbgrader's Execute uses (through :class:`~.manager.SandboxedExecute`), and the
  ``c.Sandbox`` settings. It allocates a private uid, directories and cgroups for each kernel,
  wraps the kernel command with the launcher and removes everything when the kernel stops.
* :mod:`.launch` - ``python -I -m autograder.sandbox.launch PLAN -- KERNEL_CMD``: joins the
  cgroups, enters new network / mount / IPC namespaces, hides grader-only paths, sets rlimits,
  drops to the kernel's uid and execs the kernel. Standard library only.
* :mod:`.cgroups` - cgroup v1 / v2 directories with memory, pids and cpu limits.

This module itself stays import-light: :mod:`autograder.preprocessors` calls
:func:`prepare_artifact_dir` in the grader, and the launcher imports the package as root.

See ``docs/security.md`` for what holds on which machine.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

ROOT_ENV = "AUTOGRADER_SANDBOX_DIR"
DEFAULT_ROOT = "/run/nn-autograder"
ARTIFACTS = "artifacts"

# The artifact directory InjectCapture made last, waiting for the kernel that will write it.
# nbgrader runs the preprocessors of one notebook in order in one process (InjectCapture, then
# Execute starts the kernel), so one slot is enough; the kernel manager claims it at start.
_pending_artifact_dir: Path | None = None


def sandbox_root() -> Path:
    """Where the sandbox keeps its per-kernel state (root-owned, mode 0711)."""
    return Path(os.environ.get(ROOT_ENV) or DEFAULT_ROOT)


def ensure_private_dir(path: Path, mode: int = 0o711) -> Path:
    """Create ``path`` owned by us with ``mode``; refuse one that someone else could control."""
    path.mkdir(mode=mode, parents=True, exist_ok=True)
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
        raise PermissionError(f"{path} is not a directory owned by uid {os.geteuid()}")
    if stat.S_IMODE(info.st_mode) != mode:
        os.chmod(path, mode)
    return path


def prepare_artifact_dir() -> str:
    """A fresh, unguessable directory for the capture cell's artifacts.

    As root, it is created inside ``<sandbox root>/artifacts`` (root-owned, mode 0711: the kernel
    can enter a directory whose name it was given but cannot list the others), mode 0700, and
    the sandboxed kernel that starts next gets it chowned to its uid. Otherwise (not root, or the
    sandbox root is unusable) it is a plain ``tempfile.mkdtemp`` directory, as before.
    """
    global _pending_artifact_dir
    directory: str | None = None
    if os.geteuid() == 0:
        try:
            parent = ensure_private_dir(ensure_private_dir(sandbox_root()) / ARTIFACTS)
            directory = tempfile.mkdtemp(prefix="nn-autograder-", dir=parent)
        except OSError:
            directory = None
    if directory is None:
        directory = tempfile.mkdtemp(prefix="nn-autograder-")
    _pending_artifact_dir = Path(directory)
    return directory


def claim_artifact_dir() -> Path | None:
    """The directory :func:`prepare_artifact_dir` made for the next kernel, once."""
    global _pending_artifact_dir
    directory, _pending_artifact_dir = _pending_artifact_dir, None
    return directory
