"""The course's nbgrader configuration, loaded in-process exactly as ``nbgrader autograde`` does.

The grader runs nbgrader's converters inside long-lived processes instead of one ``nbgrader``
command per submission, so it must see the same configuration the command would: the user's
and system's ``nbgrader_config.py`` files, then the course directory's. Config files are Python
and may set environment variables (this course's sets ``TF_CPP_MIN_LOG_LEVEL`` for the kernel);
they run inside :func:`environment`, so their changes land in :attr:`CourseConfig.env` and not
in this process's own environment, and a worker applies them around each submission instead
of letting one course's settings leak into the next batch.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from traitlets.config import Config

@dataclass(frozen=True)
class CourseConfig:
    root: Path
    config: Config
    env: dict[str, str]  # os.environ as the nbgrader command would have it after loading config


@contextmanager
def environment(env: Mapping[str, str]) -> Iterator[None]:
    """Run a block with ``os.environ`` set to ``env`` exactly; restore it afterwards."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextmanager
def working_directory(path: Path) -> Iterator[None]:
    saved = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(saved)


def grading_path_env(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` with this interpreter's ``bin/`` first on PATH: nbgrader runs ``alembic`` from it."""
    path = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return {**env, "PATH": path}


def load_course_config(root: Path) -> CourseConfig:
    """What ``nbgrader autograde`` started in ``root`` with this process's environment would be configured with."""
    from nbgrader.apps import AutogradeApp

    saved_path = list(sys.path)  # nbgrader's initialize() puts the working directory on it
    with environment(grading_path_env(os.environ)), working_directory(root):
        app = AutogradeApp()
        try:
            app.initialize([], root=str(root))
        finally:
            sys.path[:] = saved_path
        return CourseConfig(root, app.config, dict(os.environ))
