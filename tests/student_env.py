"""A student's Python, simulated: Colab's stack at the oldest versions the package supports.

Colab ships ``tensorflow`` (the GPU-capable build, not ``tensorflow-cpu``), its Keras and NumPy,
SciPy, scikit-learn and Jupyter's kernel, but not this project's package. The tests build one
such virtual environment and reuse it across test runs: it is kept in a cache folder outside the
repository (``/var/tmp`` by default, ``$NN_AUTOGRADER_ENV_CACHE`` to move it) under a name
derived from the requirements, so changing a pin builds a new one. The first build downloads
TensorFlow and takes minutes; later runs find it in a second.

Tests never install into the cached environment itself: each session works on a hard-linked
clone (:func:`session_clone`), so what the notebook's first cell installs there disappears with
the session, and the next run starts from Colab's state again.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# The oldest supported stack: TensorFlow 2.16 is the first with Keras 3; Keras 3.3 was current
# when it was released; NumPy 1.26 is what TensorFlow 2.16 accepts (it refuses NumPy 2); SciPy
# and scikit-learn at the minimums of pyproject.toml. Keep in step with autograder.environment.
REQUIREMENTS = (
    "tensorflow==2.16.2",
    "keras==3.3.3",
    "numpy==1.26.4",
    "scipy==1.12.0",
    "scikit-learn==1.5.0",
    "ipykernel==6.29.5",
    # Colab has Jupyter's notebook tools; the check command runs the notebook with them.
    "nbclient==0.10.0",
    "nbformat==5.10.4",
)
# Packages the first cell installs when missing; downloaded once so the notebook runs offline.
WHEELHOUSE_REQUIREMENTS = ("mlxtend==0.23.4",)
BUILDER_VERSION = 1  # bump when the way the environment is built changes
CACHE_ENV = "NN_AUTOGRADER_ENV_CACHE"
DEFAULT_CACHE = Path("/var/tmp/nn-basics-autograder/student-envs")
COMPLETE = ".complete"


def cache_root() -> Path:
    return Path(os.environ.get(CACHE_ENV) or DEFAULT_CACHE)


def _key() -> str:
    spec = {"python": sys.version_info[:2], "requirements": REQUIREMENTS,
            "wheelhouse": WHEELHOUSE_REQUIREMENTS, "builder": BUILDER_VERSION}
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]


def _pip(python: Path, *args: str) -> None:
    """Run pip in ``python``'s environment; a failure names the command and shows pip's output."""
    proc = subprocess.run([str(python), "-m", "pip", "--disable-pip-version-check", *args],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"pip {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")


def colab_like_env() -> Path:
    """The cached environment (built now if missing); its ``bin/python`` runs the kernel.

    A file lock makes concurrent test runs wait for one build instead of racing; a build that
    was interrupted (no completion marker) is thrown away and redone.
    """
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    target = root / f"colab-tf2.16-{_key()}"
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (target / COMPLETE).exists():
            return target
        # Environments of older requirements take gigabytes each and are never used again.
        for stale in root.glob("colab-*"):
            shutil.rmtree(stale, ignore_errors=True)
        # --without-pip + ensurepip would be slower; the stdlib venv brings pip.
        subprocess.run([sys.executable, "-m", "venv", str(target)], check=True)
        python = target / "bin" / "python"
        _pip(python, "install", "--quiet", *REQUIREMENTS)
        _pip(python, "download", "--quiet", "--no-deps", "--dest", str(target / "wheelhouse"),
             *WHEELHOUSE_REQUIREMENTS)
        (target / "requirements.txt").write_text("\n".join(REQUIREMENTS) + "\n")
        (target / COMPLETE).write_text(_key() + "\n")
    return target


def session_clone(env: Path, parent: Path) -> Path:
    """A hard-linked copy of ``env`` under ``parent``: cheap, and installing into it leaves
    ``env`` untouched (pip writes new files; it never edits the linked ones in place)."""
    clone = parent / "venv"
    subprocess.run(["cp", "-al", str(env), str(clone)], check=True)
    # The venv's scripts name their folder; only bin/python (a symlink) is used, which needs none.
    return clone


def build_student_wheel(repo: Path, out: Path) -> Path:
    """Build the student package's wheel the way an instructor publishes it (README).

    Built from a copy of the files the wheel needs, so setuptools' ``build/`` and egg-info
    folders never appear in the working tree while other tests run.
    """
    with tempfile.TemporaryDirectory(prefix="nn-wheel-src-") as tmp:
        src = Path(tmp)
        for name in ("pyproject.toml", "README.md"):
            shutil.copy2(repo / name, src / name)
        shutil.copytree(repo / "autograder", src / "autograder",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        out.mkdir(parents=True, exist_ok=True)
        _pip(Path(sys.executable), "wheel", "--quiet", "--no-deps", "--wheel-dir", str(out), str(src))
    wheels = sorted(out.glob("nn_basics_autograder-*.whl"))
    if len(wheels) != 1:
        raise RuntimeError(f"expected one wheel in {out}, found {[w.name for w in wheels]}")
    return wheels[0]


if __name__ == "__main__":  # build (or find) the environment ahead of a test run
    print(colab_like_env())
