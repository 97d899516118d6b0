"""Which grader decided a grade: the package version and a digest of everything that decides one.

A recorded grade is only as valid as the code that computed it. The checks, the calibrated
thresholds, the message catalogue, the preprocessors and the feedback templates all live in
the installed ``autograder`` package, and the course's ``nbgrader_config.py`` chains them; a
change to any of them can change a verdict or a message. So the resume key of a submission
(:mod:`autograder.bulk.ledger`) includes this identity, and a batch after such a change
re-grades without ``--force`` and says which files changed.

The package's files are discovered by walking the installed package, so a module added,
moved or removed later is covered without a list to keep up to date.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import autograder

PACKAGE_DIR = Path(autograder.__file__).resolve().parent
DISTRIBUTION = "nn-basics-autograder"
# Files of the package that take part in grading: code, data (thresholds), templates.
GRADING_SUFFIXES = (".py", ".json", ".j2", ".tpl", ".html", ".css", ".txt", ".toml")
COURSE_CONFIG = "nbgrader_config.py"


@dataclass(frozen=True)
class GraderIdentity:
    version: str
    files: dict[str, str] = field(default_factory=dict)  # "autograder/checks.py" -> SHA-256

    @property
    def digest(self) -> str:
        h = hashlib.sha256(self.version.encode() + b"\0")
        for name in sorted(self.files):
            h.update(f"{name}\0{self.files[name]}\0".encode())
        return h.hexdigest()[:16]

    def differences(self, earlier: GraderIdentity) -> list[str]:
        """What changed since ``earlier``, as short phrases for the instructor."""
        changes = []
        if earlier.version != self.version:
            changes.append(f"version {earlier.version} -> {self.version}")
        changed = sorted(n for n in set(self.files) | set(earlier.files)
                         if self.files.get(n) != earlier.files.get(n))
        shown = changed[:5] + ([f"{len(changed) - 5} more files"] if len(changed) > 5 else [])
        return changes + shown

    def to_json(self) -> dict:
        return {"version": self.version, "files": self.files}

    @classmethod
    def from_json(cls, data: dict) -> GraderIdentity:
        return cls(str(data["version"]), {str(k): str(v) for k, v in dict(data["files"]).items()})


def grader_identity(course_root: Path, package_dir: Path = PACKAGE_DIR) -> GraderIdentity:
    """The identity of the grader that would grade the course in ``course_root`` now."""
    files = {}
    for path in sorted(package_dir.rglob("*")):
        if path.suffix in GRADING_SUFFIXES and path.is_file() and "__pycache__" not in path.parts:
            files[f"{package_dir.name}/{path.relative_to(package_dir).as_posix()}"] = _sha(path)
    config = course_root / COURSE_CONFIG
    if config.is_file():
        files[f"course/{COURSE_CONFIG}"] = _sha(config)
    return GraderIdentity(_version(), files)


class GraderHistory:
    """The identities earlier batches graded with, so a change can be explained by file name.

    One small JSON file in the batch state folder, keyed by digest; only the last few are kept.
    """

    KEEP = 8

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, GraderIdentity]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return {k: GraderIdentity.from_json(v) for k, v in data.items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return {}

    def remember(self, identity: GraderIdentity) -> None:
        known = self.load()
        known.pop(identity.digest, None)
        known[identity.digest] = identity  # last in the file: the most recent
        kept = dict(list(known.items())[-self.KEEP:])
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({k: v.to_json() for k, v in kept.items()}, indent=1), encoding="utf-8")
        tmp.replace(self.path)


def _version() -> str:
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "unknown"


def _sha(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(2**20), b""):
            h.update(chunk)
    return h.hexdigest()
