"""Intake from an LMS: ``python -m autograder intake ZIP`` files an LMS download into ``submitted/``.

Moodle's and Canvas's "download all submissions" give one zip with one file (or folder) per
student, named after the student by the LMS; what follows the LMS's prefix is whatever the
student uploaded. Intake files each student's ``nn_basics.ipynb`` at
``submitted/<student>/nn_basics/nn_basics.ipynb``, where nbgrader looks for it.

The download is half trusted: its layout comes from the LMS, its contents from students. So:

* the student is read from the LMS's prefix of a member's *first* path component, and never
  from anything a student named: a file called like another student's upload, inside a
  student's folder or inside a zip they uploaded, stays the uploader's (and is reported);
* each student's upload is judged on its own: a hostile, ambiguous or damaged upload is
  refused for that student with a one-line reason, and the rest of the class is filed;
* nothing is extracted to a name taken from an archive: intake reads only the notebook (and
  at most one level of zip a student put it in) and writes it to a path it chose, streaming
  it through :mod:`autograder.safe_zip`'s caps (per file, compression ratio, whole intake);
* everything is written into a staging directory inside the course first and moved into
  ``submitted/`` at the end, student by student, with the previous state put back if a move
  fails, so an error leaves no half-written submission;
* errors about the download as a whole (a missing file, not a zip, no LMS names at all,
  students who already have a submission without ``--force``) are one line, exit 2, nothing
  written.

nbgrader's own ``zip_collect`` is not used: it extracts every archive it finds, nested ones
included, and reads the student id from the last folder of the path, which a student names.
:data:`NAMED_REGEXP` is kept for instructors who run ``zip_collect`` by hand (docs/intake.md).
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .safe_zip import Limits, Refused, copy_member, entry_name, quoted, shown, unsafe
from .spec import ASSIGNMENT, NOTEBOOK

# For plain ``nbgrader zip_collect`` (docs/intake.md): nbgrader matches this against the path of
# every extracted file (with re.match) and reads the student id and the notebook name from its
# named groups. Recognised names:
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

# The LMS's prefix on a member's first path component; what follows it is the student's upload.
# Both are matched lazily, so the earliest prefix wins: the LMS writes its prefix before the
# uploaded file's name, and a student who names a file "X_999_assignsubmission_file_..." only
# adds text after it.
_MOODLE = re.compile(r"(?s)(?P<name>.*?)_(?P<student>\d+)_assignsubmission_(?P<plugin>[a-z]+)_(?P<upload>.*)")
_CANVAS = re.compile(r"(?s)(?P<name>.*?)_(?:late_)?(?P<student>\d+)_\d+_(?P<upload>.+)")
_CANVAS_COUNTER = re.compile(r"-\d+(?=\.ipynb$)")  # Canvas renames a re-uploaded file "name-1.ipynb"
_IGNORED_FOLDERS = {"__MACOSX", ".ipynb_checkpoints"}  # macOS resource forks, Jupyter's autosaves


class IntakeError(Exception):
    """The download as a whole cannot be taken in; the message is one line for the instructor."""


@dataclass(frozen=True)
class Owner:
    """Whose a member of the download is, by the LMS's prefix, and the path inside their upload."""

    student: str
    name: str  # the student's name as the LMS spelled it (only shown, never trusted)
    upload: str  # the member's path inside the student's upload ("" for the folder itself)
    is_file_upload: bool  # False for Moodle's online text, comments and the like


def owner(member: str) -> Owner | None:
    """The student a member belongs to, read from the LMS's prefix of its first path component."""
    first, _, rest = member.partition("/")
    matches = [m for m in (_MOODLE.fullmatch(first), _CANVAS.fullmatch(first)) if m]
    if not matches:
        return None
    match = min(matches, key=lambda m: m.start("student"))
    moodle = match.re is _MOODLE
    upload = match["upload"]
    if not moodle:
        upload = _CANVAS_COUNTER.sub("", upload)
    upload = "/".join(part for part in (upload, rest) if part)
    return Owner(match["student"], match["name"], upload, not moodle or match["plugin"] == "file")


@dataclass
class Upload:
    """One student's members of the download."""

    student: str
    name: str
    members: list[tuple[zipfile.ZipInfo, str]] = field(default_factory=list)  # (info, path in upload)

    @property
    def label(self) -> str:
        return f"{self.student} ({shown(self.name)})"


@dataclass(frozen=True)
class Summary:
    """What one intake did: students filed, uploads refused (with why), notebooks left out."""

    collected: list[str]  # student ids, sorted
    refused: dict[str, str]  # "id (name)" -> reason
    skipped: dict[str, str]  # "id (name)" or a member name -> reason


def _is_notebook(path: str) -> bool:
    parts = PurePosixPath(path).parts
    return bool(parts) and parts[-1] == NOTEBOOK and not _IGNORED_FOLDERS.intersection(parts)


def _foreign(path: str, student: str) -> str | None:
    """The student whose LMS name for the notebook a file in ``student``'s upload carries, if another's.

    Such a file is a copy of another student's download (or an attempt to be filed as them); it
    is never filed, and the uploader's upload is refused so that the instructor looks at it.
    """
    other = owner(PurePosixPath(path).name)
    if other is not None and other.student != student and other.is_file_upload and _is_notebook(other.upload):
        return other.student
    return None


class _Budget:
    """The bytes one intake may still write into the course (``Limits.total_bytes``)."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.left = limits.total_bytes

    def copy(self, zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, target: Path) -> int:
        limit = min(self.limits.file_bytes, self.left)
        if self.left < info.file_size <= self.limits.file_bytes:
            raise Refused(f"this intake already wrote its limit of {self.limits.total_bytes:,} bytes")
        size = copy_member(zf, info, name, target, limit, self.limits)
        self.left -= size
        return size

    def release(self, size: int) -> None:
        self.left += size


def _check_members(zf: zipfile.ZipFile, where: str) -> list[tuple[zipfile.ZipInfo, str]]:
    """The members of an archive a student uploaded, decoded and checked; raise :class:`Refused`."""
    members = []
    for info in zf.infolist():
        name = entry_name(info)
        reason = unsafe(info, name)
        if reason:
            raise Refused(f"{where}: {reason}")
        if not info.is_dir():
            members.append((info, name))
    return members


def _notebook_in_archive(zf: zipfile.ZipFile, archive_name: str, student: str, limits: Limits
                         ) -> list[tuple[zipfile.ZipInfo, str]]:
    """The ``nn_basics.ipynb`` members of a zip inside a student's upload; raise :class:`Refused`."""
    where = f"in {quoted(archive_name)}"
    if len(zf.infolist()) > limits.archive_entries:
        raise Refused(f"{quoted(archive_name)} has {len(zf.infolist()):,} members "
                      f"(limit {limits.archive_entries:,})")
    members = _check_members(zf, where)
    for _, name in members:
        if PurePosixPath(name).suffix.lower() == ".zip":
            raise Refused(f"{quoted(archive_name)} holds another archive ({quoted(name)}); "
                          f"intake opens one level only")
        other = _foreign(name, student)
        if other:
            raise Refused(f"{quoted(archive_name)} holds {quoted(name)}, named like student {other}'s upload")
    return [(info, name) for info, name in members if _is_notebook(name)]


def _take(zf: zipfile.ZipFile, upload: Upload, staging: Path, budget: _Budget) -> Path | None:
    """File ``upload``'s notebook under ``staging``; ``None`` if it has none; raise :class:`Refused`."""
    for info, path in upload.members:
        reason = unsafe(info, path)
        if reason:
            raise Refused(reason)
        other = _foreign(path, upload.student)
        if other:
            raise Refused(f"{quoted(path)} is named like student {other}'s upload")

    target = staging / "submitted" / upload.student / ASSIGNMENT / NOTEBOOK
    direct = [(info, path) for info, path in upload.members if _is_notebook(path)]
    if len(direct) > 1:
        raise Refused(f"{len(direct)} copies of {NOTEBOOK} ({', '.join(shown(p) for _, p in direct)}); "
                      "keep one and run again")
    archives = [(info, path) for info, path in upload.members
                if PurePosixPath(path).suffix.lower() == ".zip" and not info.is_dir()]
    if direct:
        target.parent.mkdir(parents=True)
        budget.copy(zf, direct[0][0], direct[0][1], target)
        return target
    if len(archives) > 1:
        raise Refused(f"{len(archives)} archives and no {NOTEBOOK}; upload the notebook itself")
    if not archives:
        return None

    info, path = archives[0]
    nested_file = staging / "archives" / f"{upload.student}.zip"
    nested_file.parent.mkdir(exist_ok=True)
    size = budget.copy(zf, info, path, nested_file)
    try:
        try:
            nested = zipfile.ZipFile(nested_file)
        except (zipfile.BadZipFile, OSError) as exc:
            raise Refused(f"{quoted(path)} is not a readable zip ({exc})") from None
        with nested:
            found = _notebook_in_archive(nested, path, upload.student, budget.limits)
            if len(found) > 1:
                raise Refused(f"{quoted(path)} holds {len(found)} copies of {NOTEBOOK}; keep one and run again")
            if not found:
                return None
            target.parent.mkdir(parents=True)
            budget.copy(nested, found[0][0], f"{path}!{found[0][1]}", target)
            return target
    finally:
        nested_file.unlink()
        budget.release(size)


def _read(archive: Path) -> tuple[dict[str, Upload], dict[str, str]]:
    """Group the download's members by student; notebooks of no student are reported as skipped."""
    if not archive.is_file():
        raise IntakeError(f"no such file: {archive}")
    uploads: dict[str, Upload] = {}
    skipped: dict[str, str] = {}
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise IntakeError(f"not a readable zip file: {archive} ({exc})") from None
    with zf:
        for info in zf.infolist():
            name = entry_name(info)
            who = owner(name)
            if who is None:
                if not info.is_dir() and PurePosixPath(name).suffix == ".ipynb":
                    skipped[shown(name)] = f"not an LMS file name for {NOTEBOOK}"
                continue
            if who.is_file_upload and not (info.is_dir() and not who.upload):
                uploads.setdefault(who.student, Upload(who.student, who.name)).members.append((info, who.upload))
    if not uploads:
        raise IntakeError(
            f"no submission of {NOTEBOOK} in {archive}: expected LMS file names such as "
            f"'Full Name_12345_assignsubmission_file_{NOTEBOOK}' (Moodle) or "
            f"'lastname_12345_67890_{NOTEBOOK}' (Canvas)")
    return uploads, skipped


def _stage(archive: Path, staging: Path, limits: Limits) -> tuple[dict[str, Path], dict[str, str], dict[str, str]]:
    """Write every acceptable notebook under ``staging``; judge each student's upload on its own."""
    uploads, skipped = _read(archive)
    staged: dict[str, Path] = {}
    refused: dict[str, str] = {}
    budget = _Budget(limits)
    with zipfile.ZipFile(archive) as zf:
        for student in sorted(uploads, key=int):
            upload = uploads[student]
            try:
                target = _take(zf, upload, staging, budget)
            except Refused as exc:
                shutil.rmtree(staging / "submitted" / student, ignore_errors=True)
                refused[upload.label] = str(exc)
                continue
            if target is None:
                files = sorted({shown(PurePosixPath(p).name) for info, p in upload.members if not info.is_dir()})
                skipped[upload.label] = f"no {NOTEBOOK} in the upload ({', '.join(files) or 'no files'})"
            else:
                staged[student] = target.parent
    return staged, refused, skipped


def _move_in(staged: dict[str, Path], root: Path, staging: Path) -> None:
    """Move each staged folder to ``submitted/``; if one move fails, put back what was moved."""
    done: list[tuple[Path, Path, Path | None, bool]] = []  # (staged, target, the replaced folder, parent made)
    submitted = root / "submitted"
    made_submitted = not submitted.exists()
    try:
        for student, folder in staged.items():
            target = root / "submitted" / student / ASSIGNMENT
            replaced = None
            if target.exists():
                replaced = staging / "replaced" / student
                replaced.parent.mkdir(exist_ok=True)
                target.rename(replaced)
            made_parent = not target.parent.exists()
            target.parent.mkdir(parents=True, exist_ok=True)
            done.append((folder, target, replaced, made_parent))
            folder.rename(target)
    except OSError:
        for folder, target, replaced, made_parent in reversed(done):
            if target.exists() and not folder.exists():
                target.rename(folder)
            if replaced is not None:
                replaced.rename(target)
            elif made_parent:
                target.parent.rmdir()
        if made_submitted and submitted.exists() and not any(submitted.iterdir()):
            submitted.rmdir()
        raise


def collect(archive: Path, root: Path, force: bool = False, limits: Limits = Limits()) -> Summary:
    """Take ``archive`` into course ``root``'s ``submitted/``; see the module docstring."""
    release = root / "release" / ASSIGNMENT / NOTEBOOK
    if not release.is_file():
        raise IntakeError(f"{root} has no {release.relative_to(root)} "
                          f"(run `nbgrader generate_assignment {ASSIGNMENT}` there first)")
    # Inside the course, so the final moves are renames on one file system.
    staging = Path(tempfile.mkdtemp(prefix=".intake-", dir=root))
    try:
        staged, refused, skipped = _stage(archive, staging, limits)
        existing = sorted((s for s in staged if (root / "submitted" / s / ASSIGNMENT).exists()), key=int)
        if existing and not force:
            raise IntakeError(f"{len(existing)} student(s) in the zip already have a submission "
                              f"({', '.join(existing[:5])}{', ...' if len(existing) > 5 else ''}); "
                              "use --force to replace them")
        _move_in(staged, root, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return Summary(list(staged), refused, skipped)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("zip", type=Path, help="the LMS download: a zip of all submissions (Moodle or Canvas)")
    parser.add_argument("--course", type=Path, default=Path("."),
                        help="course directory (default: the current directory)")
    parser.add_argument("--force", action="store_true", help="replace students' existing submissions")


def run(args: argparse.Namespace) -> int:
    """Exit 0 when every upload was filed or skipped, 1 when an upload was refused, 2 on bad input."""
    root: Path = args.course.resolve()
    try:
        summary = collect(args.zip.resolve(), root, force=args.force)
    except IntakeError as exc:
        print(f"intake: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"intake: error: cannot write into {root}: {exc} (the course is unchanged)", file=sys.stderr)
        return 2
    print(f"Collected {len(summary.collected)} submission(s) into {root / 'submitted'}: "
          f"{', '.join(summary.collected) or '-'}")
    for who, reason in summary.refused.items():
        print(f"Refused {who}: {reason}")
    for who, reason in summary.skipped.items():
        print(f"Skipped {who}: {reason}")
    return 1 if summary.refused else 0
