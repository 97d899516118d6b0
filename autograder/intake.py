"""Intake from an LMS: ``python -m autograder intake ZIP`` files an LMS download into ``submitted/``.

Moodle's and Canvas's "download all submissions" give one zip with one file per student, named
after the student. nbgrader's ``zip_collect`` already turns such a zip into
``submitted/<student>/nn_basics/nn_basics.ipynb``; it only needs a file-name pattern
(``FileNameCollectorPlugin.named_regexp``) that says where the student id is. This command
supplies :data:`NAMED_REGEXP` and makes the step safe to run on whatever an instructor
downloaded:

* the zip is checked first, so a missing file, a file that is not a zip, or a zip without a
  single recognisable submission is one error line (exit 2) and nothing is written;
* ``zip_collect`` runs in a staging directory inside the course, and its result is moved into
  ``submitted/`` only when it succeeded, so a failure leaves no half-collected class behind;
* an existing submission is replaced only with ``--force``.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
import zipfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .course import CourseError, run_nbgrader
from .spec import ASSIGNMENT, NOTEBOOK

# nbgrader matches this against the path of every extracted file (with re.match), and reads the
# student id and the notebook name from its named groups. Recognised names:
#   Moodle:  "Full Name_12345_assignsubmission_file_nn_basics.ipynb"
#            (or "Full Name_12345_assignsubmission_file_/nn_basics.ipynb", one folder per student)
#   Canvas:  "lastnamefirstname_12345_67890_nn_basics.ipynb"
#            (also "..._late_12345_...", and "nn_basics-1.ipynb" for a re-uploaded file)
# The student id is the LMS's number for the student: Moodle's participant id, Canvas's user id.
NAMED_REGEXP = r"""(?x)
    ^(?:.*/)?                       # the folders the zip was extracted into
    [^/]*?                          # the student's name, as the LMS spelled it
    _(?:late_)?                     # Canvas marks a late submission
    (?P<student_id>\d+)_            # the student's number in the LMS
    (?:assignsubmission_file_/?     # Moodle: then the uploaded file (or a folder holding it)
      |\d+_)                        # Canvas: the submission number, then the uploaded file
    (?P<file_id>[^/]+?)             # the uploaded file's name ...
    (?:-\d+)?                       # ... without Canvas's re-upload counter
    \.ipynb$
"""
_PATTERN = re.compile(NAMED_REGEXP)
_ARCHIVE = "download.zip"  # the zip's name inside the staging directory; any fixed name works


class IntakeError(Exception):
    """The input cannot be taken in; the message is one line for the instructor."""


@dataclass(frozen=True)
class Plan:
    """What a zip holds: the member to take in per student, and the notebooks left out."""

    submissions: dict[str, str]  # student id -> zip member
    skipped: list[str]  # notebooks whose name is not an LMS name for nn_basics.ipynb


def plan(archive: Path) -> Plan:
    """Read the zip's table of contents and decide, before anything is written, what to collect.

    This applies :data:`NAMED_REGEXP` the way ``zip_collect --strict`` will, so the errors an
    instructor can fix (wrong file, wrong LMS export, two notebooks for one student) are
    reported in one line instead of as a half-finished nbgrader run.
    """
    if not archive.is_file():
        raise IntakeError(f"no such file: {archive}")
    try:
        with zipfile.ZipFile(archive) as zf:
            members = [m.filename for m in zf.infolist() if not m.is_dir()]
            corrupt = zf.testzip()
    except (zipfile.BadZipFile, OSError) as exc:
        raise IntakeError(f"not a readable zip file: {archive} ({exc})") from None
    if corrupt is not None:
        raise IntakeError(f"corrupt zip file: {archive} (member {corrupt!r} fails its checksum)")

    found: dict[str, list[str]] = defaultdict(list)
    skipped = []
    for member in sorted(members):
        if PurePosixPath(member).suffix != ".ipynb":
            continue  # other uploads (Moodle's online text, PDFs) are not submissions
        match = _PATTERN.match(member)
        if match and f"{match['file_id']}.ipynb" == NOTEBOOK:
            found[match["student_id"]].append(member)
        else:
            skipped.append(member)
    if not found:
        raise IntakeError(
            f"no submission of {NOTEBOOK} in {archive}: expected LMS file names such as "
            f"'Full Name_12345_assignsubmission_file_{NOTEBOOK}' (Moodle) or "
            f"'lastname_12345_67890_{NOTEBOOK}' (Canvas)")
    twice = {s: m for s, m in found.items() if len(m) > 1}
    if twice:
        student, names = next(iter(sorted(twice.items())))
        raise IntakeError(f"student {student} has {len(names)} notebooks in the zip "
                          f"({', '.join(names)}); keep one and run again")
    return Plan({s: m[0] for s, m in sorted(found.items())}, skipped)


def collect(archive: Path, root: Path, force: bool = False) -> Plan:
    """Take ``archive`` into course ``root``'s ``submitted/`` with nbgrader's ``zip_collect``."""
    release = root / "release" / ASSIGNMENT / NOTEBOOK
    if not release.is_file():
        raise IntakeError(f"{root} has no {release.relative_to(root)} "
                          f"(run `nbgrader generate_assignment {ASSIGNMENT}` there first)")
    intake = plan(archive)
    targets = {s: root / "submitted" / s / ASSIGNMENT for s in intake.submissions}
    existing = sorted(s for s, path in targets.items() if path.exists())
    if existing and not force:
        raise IntakeError(f"{len(existing)} student(s) in the zip already have a submission "
                          f"({', '.join(existing[:5])}{', ...' if len(existing) > 5 else ''}); "
                          "use --force to replace them")

    # Inside the course, so the final moves are renames on one file system.
    staging = Path(tempfile.mkdtemp(prefix=".intake-", dir=root))
    try:
        (staging / "release" / ASSIGNMENT).mkdir(parents=True)
        shutil.copy2(release, staging / "release" / ASSIGNMENT / NOTEBOOK)  # --strict checks names against it
        downloaded = staging / "downloaded" / ASSIGNMENT / "archive"
        downloaded.mkdir(parents=True)
        shutil.copy2(archive, downloaded / _ARCHIVE)
        (staging / "nbgrader_config.json").write_text(json.dumps(
            {"FileNameCollectorPlugin": {"named_regexp": NAMED_REGEXP, "valid_ext": [".ipynb"]}}))
        run_nbgrader(staging, "zip_collect", ASSIGNMENT, "--strict")

        staged = {s: staging / "submitted" / s / ASSIGNMENT for s in intake.submissions}
        missing = sorted(s for s, path in staged.items() if not (path / NOTEBOOK).is_file())
        if missing:
            raise CourseError(f"nbgrader zip_collect did not collect {', '.join(missing)}")
        for student, target in targets.items():
            if target.exists():
                shutil.rmtree(target)
            target.parent.mkdir(parents=True, exist_ok=True)
            staged[student].rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return intake


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("zip", type=Path, help="the LMS download: a zip of all submissions (Moodle or Canvas)")
    parser.add_argument("--course", type=Path, default=Path("."),
                        help="course directory (default: the current directory)")
    parser.add_argument("--force", action="store_true", help="replace students' existing submissions")


def run(args: argparse.Namespace) -> int:
    root: Path = args.course.resolve()
    try:
        intake = collect(args.zip.resolve(), root, force=args.force)
    except IntakeError as exc:
        print(f"intake: error: {exc}", file=sys.stderr)
        return 2
    except CourseError as exc:
        print(f"intake: {exc}", file=sys.stderr)
        return 1
    students = list(intake.submissions)
    print(f"Collected {len(students)} submission(s) into {root / 'submitted'}: {', '.join(students)}")
    for member in intake.skipped:
        print(f"Skipped {member}: not an LMS file name for {NOTEBOOK}")
    return 0
