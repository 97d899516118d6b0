"""``nbgrader collect`` through CheckedCollect: links a student left in the exchange are not followed."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from nbgrader.auth import Authenticator
from nbgrader.coursedir import CourseDirectory
from traitlets.config import Config

from autograder.exchange_collect import CheckedCollect

COURSE = "nn-basics"


def _inbound(exchange: Path, student: str) -> Path:
    folder = exchange / COURSE / "inbound" / f"{student}+nn_basics+2026-12-01 10:00:00.000000 UTC+abc"
    folder.mkdir(parents=True)
    (folder / "nn_basics.ipynb").write_text('{"cells": []}')
    (folder / "timestamp.txt").write_text("2026-12-01 10:00:00.000000 UTC")
    return folder


def _collect(course: Path, exchange: Path, caplog) -> None:
    config = Config()
    config.CourseDirectory.root = str(course)
    config.CourseDirectory.course_id = COURSE
    config.CourseDirectory.assignment_id = "nn_basics"
    config.Exchange.root = str(exchange)
    coursedir = CourseDirectory(config=config)
    collect = CheckedCollect(coursedir=coursedir, authenticator=Authenticator(config=config), config=config,
                             log=logging.getLogger("collect-test"))
    with caplog.at_level(logging.INFO, logger="collect-test"):
        collect.start()


def test_a_linked_submission_is_not_collected_and_a_plain_one_is(tmp_path, caplog):
    course, exchange = tmp_path / "course", tmp_path / "exchange"
    (course / "source" / "nn_basics").mkdir(parents=True)
    secret = course / "source" / "nn_basics" / "nn_basics.ipynb"
    secret.write_text("the instructor's solutions")
    (exchange / COURSE).mkdir(parents=True)
    os.chmod(exchange, 0o777)
    honest = _inbound(exchange, "alice")
    (honest / "notes.txt").write_text("my notes")
    (honest / ".ipynb_checkpoints").mkdir()  # nbgrader's ignore list still applies
    (honest / ".ipynb_checkpoints" / "nn_basics-checkpoint.ipynb").write_text("{}")
    linked = _inbound(exchange, "mallory")
    (linked / "nn_basics.ipynb").unlink()
    (linked / "nn_basics.ipynb").symlink_to(secret)
    device = _inbound(exchange, "trudy")
    (device / "data.bin").symlink_to("/dev/zero")  # copytree would read it forever
    fifo = _inbound(exchange, "eve")
    os.mkfifo(fifo / "pipe")

    _collect(course, exchange, caplog)

    submitted = course / "submitted"
    assert sorted(p.name for p in submitted.iterdir() if any(p.iterdir())) == ["alice"]
    got = submitted / "alice" / "nn_basics"
    assert sorted(p.name for p in got.iterdir()) == ["nn_basics.ipynb", "notes.txt", "timestamp.txt"]
    assert (got / "notes.txt").read_text() == "my notes"
    assert not any(p.is_symlink() for p in submitted.rglob("*"))
    assert "the instructor's solutions" not in "".join(p.read_text() for p in submitted.rglob("*") if p.is_file())
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("mallory" in e and "nn_basics.ipynb is a symbolic link" in e for e in errors)
    assert any("trudy" in e and "data.bin is a symbolic link" in e for e in errors)
    assert any("eve" in e and "pipe is a FIFO" in e for e in errors)
