"""Which submissions a batch grades: found as nbgrader finds them, checked, fingerprinted, filtered.

A second run re-grades only what changed. The fingerprint of a submission covers every file
the student submitted (``timestamp.txt`` included, so a resubmission counts as a change) and
the assignment's source folder (new tests or a fixed solution make every grade stale); the
grader's own identity is kept beside it in the ledger (:mod:`autograder.bulk.grader_identity`).

Every folder is checked (:mod:`autograder.submission_folder`) before a byte of it is read: a
folder with links, special files or too much in it, or a student id nbgrader would read as a
pattern, is refused here and recorded as a zero with its reason without reaching a worker.
"""

from __future__ import annotations

import fnmatch
import glob
import hashlib
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from nbgrader.coursedir import CourseDirectory

from ..submission_folder import (
    FolderRefused, Listing, digest, inspect_folder, listing_digest, student_id_problem,
)


@dataclass(frozen=True)
class Submission:
    student: str
    path: Path  # the submitted assignment folder
    digest: str
    has_notebook: bool  # nbgrader ignores a folder without one of the assignment's notebooks
    refusal: str = ""  # why the folder is not graded (recorded as a zero), or ""


def assignment_notebooks(coursedir: CourseDirectory, assignment: str) -> tuple[str, ...]:
    """The assignment's notebook names, from its source folder (what the gradebook is built from)."""
    source = Path(coursedir.format_path(coursedir.source_directory, ".", assignment))
    return tuple(sorted(p.stem for p in source.glob("*.ipynb")))


def find_submissions(coursedir: CourseDirectory, assignment: str, students: str | None) -> list[Submission]:
    """Every ``submitted/<student>/<assignment>`` folder, sorted by student id.

    ``students`` is a shell-style pattern on student ids. Students listed in nbgrader's
    ``CourseDirectory.student_id_exclude`` are left out, as ``nbgrader autograde`` does.
    """
    pattern = coursedir.format_path(coursedir.submitted_directory, "*", glob.escape(assignment))
    student_re = re.compile(coursedir.format_path(coursedir.submitted_directory, "(?P<student>[^/]+)",
                                                  re.escape(assignment), escape=True) + "$")
    excluded = {s for s in coursedir.student_id_exclude.split(",") if s}
    notebooks = assignment_notebooks(coursedir, assignment)
    source = _source_digest(Path(coursedir.format_path(coursedir.source_directory, ".", assignment)))
    found = []
    for folder in sorted(glob.glob(pattern)):
        match = student_re.match(folder)
        if not match or not _real_dir(Path(folder)):
            continue
        student = match.group("student")
        if student in excluded or (students and not fnmatch.fnmatchcase(student, students)):
            continue
        found.append(_checked(Path(folder), student, notebooks, source))
    return found


def _checked(path: Path, student: str, notebooks: tuple[str, ...], source: str) -> Submission:
    refusal = student_id_problem(student) or ("" if _real_dir(path.parent) else
                                              f"the student folder {path.parent.name} is a symbolic link")
    listing: Listing | None = None
    if not refusal:
        try:
            listing = inspect_folder(path, notebooks)
            files = digest(path, listing)
        except FolderRefused as exc:
            refusal = str(exc)
    if refusal or listing is None:
        files = listing_digest(path)
        return Submission(student, path, _combine(source, files), True, refusal + _rename_hint(refusal, student))
    return Submission(student, path, _combine(source, files), bool(listing.notebooks))


def _rename_hint(refusal: str, student: str) -> str:
    return ": rename the student's folder and grade again" if refusal.startswith("the student id") else ""


def _combine(source: str, files: str) -> str:
    return hashlib.sha256((source + files).encode()).hexdigest()


def _real_dir(path: Path) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def _source_digest(folder: Path) -> str:
    """The instructor's source folder, hashed with the same bounded, link-refusing reader."""
    try:
        return digest(folder, inspect_folder(folder, (), max_entries=10_000, max_bytes=2**40))
    except FolderRefused as exc:  # e.g. a linked data file: still a stable fingerprint
        return hashlib.sha256(f"{exc}{listing_digest(folder)}".encode()).hexdigest()
