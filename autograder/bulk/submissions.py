"""Which submissions a batch grades: found as nbgrader finds them, fingerprinted, filtered.

A second run re-grades only what changed. The fingerprint of a submission covers every file
the student submitted (``timestamp.txt`` included, so a resubmission counts as a change) and
the assignment's source folder (new tests or a fixed solution make every grade stale).
"""

from __future__ import annotations

import fnmatch
import glob
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from nbgrader.coursedir import CourseDirectory


@dataclass(frozen=True)
class Submission:
    student: str
    path: Path  # the submitted assignment folder
    digest: str
    has_notebook: bool  # nbgrader ignores a folder without one


def find_submissions(coursedir: CourseDirectory, assignment: str, students: str | None) -> list[Submission]:
    """Every ``submitted/<student>/<assignment>`` folder, sorted by student id.

    ``students`` is a shell-style pattern on student ids. Students listed in nbgrader's
    ``CourseDirectory.student_id_exclude`` are left out, as ``nbgrader autograde`` does.
    """
    pattern = coursedir.format_path(coursedir.submitted_directory, "*", assignment)
    student_re = re.compile(coursedir.format_path(coursedir.submitted_directory, "(?P<student>[^/]+)",
                                                  re.escape(assignment), escape=True) + "$")
    excluded = {s for s in coursedir.student_id_exclude.split(",") if s}
    source = _digest_dir(Path(coursedir.format_path(coursedir.source_directory, ".", assignment)))
    found = []
    for folder in sorted(glob.glob(pattern)):
        match = student_re.match(folder)
        if not match or not Path(folder).is_dir():
            continue
        student = match.group("student")
        if student in excluded or (students and not fnmatch.fnmatchcase(student, students)):
            continue
        path = Path(folder)
        digest = hashlib.sha256((source + _digest_dir(path)).encode()).hexdigest()
        found.append(Submission(student, path, digest, any(path.glob("*.ipynb"))))
    return found


def _digest_dir(folder: Path) -> str:
    """SHA-256 over the relative names and contents of every file below ``folder``."""
    h = hashlib.sha256()
    for file in _files(folder):
        h.update(str(file.relative_to(folder)).encode() + b"\0")
        h.update(file.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def _files(folder: Path) -> Iterable[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []
