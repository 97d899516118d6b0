"""The clean-process children are confined like the grading kernel (autograder/sandbox/clean_box.py).

A child applies its box's launch plan exactly as the clean-process server's children do, then
reports what it can reach. One test runs the real server on hostile artifacts: the refusal
arrives as a verdict, and a child over its memory cap is stopped without taking the server.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from traitlets.config import Config

from autograder import preprocessors, sandbox
from autograder.artifacts import save_artifacts
from autograder.clean_process import data_size
from autograder.sandbox import launch
from autograder.sandbox.clean_box import CleanBox
from autograder.sandbox.manager import Sandbox, processes_of

ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not ROOT, reason="uid, namespaces and cgroups need root")
MiB = 2**20

_PROBE = """
import errno, json, os, socket
def attempt(action):
    try:
        action()
        return "ok"
    except OSError as exc:
        return errno.errorcode.get(exc.errno, str(exc.errno))
    except MemoryError:
        return "MemoryError"
facts = {
    "ids": [os.getuid(), os.geteuid(), os.getgid(), os.getgroups()],
    "read_artifact": attempt(lambda: open(ARTIFACT).read()),
    "write_artifact": attempt(lambda: open(ARTIFACT, "a").write("x")),
    "read_course": attempt(lambda: open(COURSE_FILE).read()),
    "connect": attempt(lambda: socket.create_connection(("127.0.0.1", PORT), timeout=3).close()),
    "allocate": attempt(lambda: bytearray(BIG)),
    "secret": "SECRET_TOKEN" in os.environ,
}
"""


def _run_confined(box: CleanBox, values: dict) -> dict:
    """Fork, apply the box's plan as the server's child does, run ``_PROBE``; return its facts."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read_end)
            plan = json.loads(json.dumps(box.plan))
            plan["rlimits"]["DATA"] = data_size() + box.data_budget
            launch.apply(plan)
            os.environ.clear()
            os.environ.update(box.env)
            scope = dict(values)
            exec(_PROBE, scope)  # noqa: S102 - the test's own probe
            os.write(write_end, json.dumps(scope["facts"]).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as answer:
        data = answer.read()
    os.waitpid(pid, 0)
    return json.loads(data)


@needs_root
def test_a_clean_child_has_its_own_uid_no_network_no_course_and_a_memory_cap(tmp_path, caplog, monkeypatch):
    course_root = Path(tempfile.mkdtemp(prefix="nn-clean-course-", dir="/run"))
    os.chmod(course_root, 0o755)
    (course_root / "gradebook.db").write_text("grades")
    os.chmod(course_root / "gradebook.db", 0o644)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.5)
    monkeypatch.setenv("SECRET_TOKEN", "hunter2")
    config = Config()
    config.CourseDirectory.root = str(course_root)
    config.Sandbox.clean_memory_limit = 256 * MiB
    artifacts = Path(sandbox.prepare_artifact_dir())
    try:
        (artifacts / "manifest.json").write_text("{}")
        with caplog.at_level(logging.INFO):
            box = CleanBox(Sandbox(config=config), logging.getLogger("clean-test"))
        try:
            box.hand_over(artifacts)
            facts = _run_confined(box, {"ARTIFACT": str(artifacts / "manifest.json"),
                                        "COURSE_FILE": str(course_root / "gradebook.db"),
                                        "PORT": listener.getsockname()[1], "BIG": 512 * MiB})
            uid = box.uid
        finally:
            box.close()
        assert 61000 <= uid < 61064
        assert facts["ids"] == [uid, uid, uid, []]
        assert facts["read_artifact"] == "ok"
        assert facts["write_artifact"] in ("EACCES", "EROFS")  # handed over read-only
        assert facts["read_course"] == "ENOENT"  # the course root is hidden
        assert facts["connect"] == "ENETUNREACH"
        assert facts["allocate"] == "MemoryError"  # RLIMIT_DATA: inherited size + 256 MiB
        assert facts["secret"] is False
        with pytest.raises(socket.timeout):
            listener.accept()
        assert not processes_of(uid)
        line = next(r.getMessage() for r in caplog.records if "Sandbox for the clean process" in r.getMessage())
        assert "NOT active" not in line
        for part in ("uid/gid", "network namespace", "mount namespace", "memory: cgroup", "time: 600 s"):
            assert part in line
    finally:
        listener.close()
        shutil.rmtree(artifacts, ignore_errors=True)
        shutil.rmtree(course_root, ignore_errors=True)


@needs_root
def test_a_required_protection_that_is_missing_stops_grading():
    config = Config()
    config.Sandbox.required = ["uid"]
    config.Sandbox.drop_privileges = False
    with pytest.raises(RuntimeError, match="required protection not available for the clean process here: uid"):
        CleanBox(Sandbox(config=config), logging.getLogger("clean-test"))


def _huge_model_artifacts() -> Path:
    """An artifact folder whose model config declares Dense(300000), as a hostile kernel wrote it."""
    import tensorflow as tf

    model = tf.keras.Sequential([tf.keras.Input((784,)), tf.keras.layers.Dense(10)])
    folder = Path(sandbox.prepare_artifact_dir())
    save_artifacts({"model": model, "X_test": np.zeros((3, 784))}, str(folder))
    path = folder / "model.keras"
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    config = json.loads(members["config.json"])
    config["config"]["layers"][-1]["config"]["units"] = 300_000
    members["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return folder


@needs_root
def test_the_server_answers_a_huge_model_with_its_reason_and_survives_a_child_over_its_cap():
    config = Config()
    server = preprocessors._VerdictServer(config)
    folders = [_huge_model_artifacts(), _huge_model_artifacts()]
    try:
        answer = server.ask({"artifacts": str(folders[0]), "sources": []}, 600)
        verdicts = answer["verdicts"]
        assert verdicts["check_architecture"]["mistake_id"] == "model.too_large"
        assert verdicts["check_training"]["mistake_id"] == "model.too_large"
        config.Sandbox.clean_memory_limit = 16 * MiB  # not even room to read the arrays
        server.settings = Sandbox(config=config)
        answer = server.ask({"artifacts": str(folders[1]), "sources": []}, 600)
        assert "verdicts" not in answer
        assert "MemoryError" in answer["error"] or "memory cap of 16 MiB" in answer["error"]
        assert server.alive()
    finally:
        server.close()
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)
