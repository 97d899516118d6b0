"""Intake: an LMS zip through ``python -m autograder intake``, and the nbgrader exchange round trip.

Both must end with the notebook at ``submitted/<student>/nn_basics/nn_basics.ipynb``, where
``nbgrader autograde`` looks for it. The zips are built here with the names Moodle and Canvas
give their downloads.
"""

from __future__ import annotations

import io
import shutil
import stat
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import nbformat
import pytest
from nbgrader.plugins import FileNameCollectorPlugin

from autograder import course, intake, safe_zip
from autograder.sample_class import sample_class
from autograder.spec import ASSIGNMENT, CHECK_POINTS, NOTEBOOK

import zip_kit

COURSE_ID = "nn-basics"  # nbgrader_config.py
# The sample class's correct answer (graded once here, to full marks) and its untouched stub.
CORRECT, BLANK = "s01_correct", "s08_blank"


def _course(root: Path) -> Path:
    """A course with the committed release (identical to a fresh one, see test_assignment)."""
    course.create_course(root)
    shutil.copytree(course.REPO_ROOT / "release", root / "release")
    return root


def _notebook(student: str) -> str:
    """The sample student's answers in the committed release, as the student would upload it."""
    release = nbformat.read(course.REPO_ROOT / "release" / ASSIGNMENT / NOTEBOOK, as_version=4)
    return nbformat.writes(course.fill_answers(release, sample_class()[student]))


def _zip(path: Path, members: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in members.items():
            zf.writestr(name, text)
    return path


def _intake(root: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "autograder", "intake", *map(str, args), "--course", str(root)],
                          env=course.grading_env(), capture_output=True, text=True, timeout=300)


def _tree(root: Path) -> dict[str, bytes | None]:
    """Every path under ``root`` with its content (None for folders), to prove nothing changed."""
    return {str(p.relative_to(root)): p.read_bytes() if p.is_file() else None for p in sorted(root.rglob("*"))}


def _submitted(root: Path, student: str) -> Path:
    return root / "submitted" / student / ASSIGNMENT / NOTEBOOK


# --- The file-name pattern, as nbgrader's own collector plugin applies it --------------------

@pytest.mark.parametrize(("name", "student"), [
    ("Taro Yamada_12345_assignsubmission_file_nn_basics.ipynb", "12345"),           # Moodle
    ("Taro Yamada_12345_assignsubmission_file_/nn_basics.ipynb", "12345"),          # Moodle, folders
    ("山田 太郎_777_assignsubmission_file_nn_basics.ipynb", "777"),                  # any name
    ("yamadataro_12345_67890_nn_basics.ipynb", "12345"),                            # Canvas
    ("yamadataro_late_12345_67890_nn_basics.ipynb", "12345"),                       # Canvas, late
    ("yamadataro_12345_67890_nn_basics-2.ipynb", "12345"),                          # Canvas, re-upload
])
def test_pattern_reads_the_student_id_from_lms_names(name, student):
    plugin = FileNameCollectorPlugin(named_regexp=intake.NAMED_REGEXP)
    info = plugin.collect(f"/course/downloaded/{ASSIGNMENT}/extracted/download/{name}")
    assert (info["student_id"], f"{info['file_id']}.ipynb") == (student, NOTEBOOK)


@pytest.mark.parametrize("name", [
    "nn_basics.ipynb",                                            # no LMS name at all
    "Taro Yamada_assignsubmission_file_nn_basics.ipynb",          # no student number
    "Taro Yamada_12345_assignsubmission_onlinetext_nn_basics.ipynb",
    "yamadataro_12345_nn_basics.ipynb",                           # Canvas name without submission number
])
def test_pattern_rejects_other_names(name):
    plugin = FileNameCollectorPlugin(named_regexp=intake.NAMED_REGEXP)
    assert plugin.collect(f"/course/downloaded/{ASSIGNMENT}/extracted/download/{name}") is None


# --- LMS zip ---------------------------------------------------------------------------

def test_moodle_zip_lands_in_submitted_and_autogrades(tmp_path):
    root = course.create_course(tmp_path / "course")
    course.run_nbgrader(root, "generate_assignment", ASSIGNMENT, "--force")
    correct, blank = _notebook(CORRECT), _notebook(BLANK)
    archive = _zip(tmp_path / "moodle.zip", {
        f"Taro Yamada_12345_assignsubmission_file_{NOTEBOOK}": correct,
        f"Hanako Sato_23456_assignsubmission_file_/{NOTEBOOK}": blank,
        "Hanako Sato_23456_assignsubmission_onlinetext_onlinetext.html": "<p>done</p>",
        "Jiro Suzuki_34567_assignsubmission_file_Untitled.ipynb": blank,
    })

    proc = _intake(root, archive)
    assert proc.returncode == 0, proc.stderr
    assert f"Collected 2 submission(s) into {root / 'submitted'}: 12345, 23456" in proc.stdout
    assert f"Skipped 34567 (Jiro Suzuki): no {NOTEBOOK} in the upload (Untitled.ipynb)" in proc.stdout
    assert sorted(p.name for p in (root / "submitted").iterdir()) == ["12345", "23456"]
    assert _submitted(root, "12345").read_text("utf-8") == correct
    assert _submitted(root, "23456").read_text("utf-8") == blank
    assert not list(root.glob(".intake-*")), "the staging directory was left behind"

    course.autograde(root, ["12345"])
    results = course.autograded_results(root, "12345")
    assert {cell: r.score for cell, r in results.items()} == {c: float(p) for c, p in CHECK_POINTS.items()}


def test_canvas_zip_and_force_replaces_existing_submissions(tmp_path):
    root = _course(tmp_path / "course")
    first = _zip(tmp_path / "first.zip", {f"yamadataro_12345_67890_{NOTEBOOK}": _notebook(BLANK)})
    assert _intake(root, first).returncode == 0
    blank = _tree(root)

    correct = _notebook(CORRECT)
    again = _zip(tmp_path / "again.zip", {
        f"yamadataro_late_12345_67899_{Path(NOTEBOOK).stem}-1.ipynb": correct,
        f"satohanako_23456_67891_{NOTEBOOK}": correct,
    })
    refused = _intake(root, again)
    assert refused.returncode == 2
    assert refused.stderr.strip() == ("intake: error: 1 student(s) in the zip already have a submission (12345); "
                                      "use --force to replace them")
    assert _tree(root) == blank

    assert _intake(root, again, "--force").returncode == 0
    assert _submitted(root, "12345").read_text("utf-8") == correct
    assert _submitted(root, "23456").read_text("utf-8") == correct


@pytest.mark.parametrize(("make", "message"), [
    (lambda d: d / "missing.zip", "no such file"),
    (lambda d: d / "course" / "nbgrader_config.py", "not a readable zip file"),
    (lambda d: _zip(d / "other.zip", {"README.txt": "x", NOTEBOOK: "{}"}), f"no submission of {NOTEBOOK}"),
], ids=["missing", "not-a-zip", "no-match"])
def test_bad_zip_is_one_error_line_and_writes_nothing(tmp_path, make, message):
    root = _course(tmp_path / "course")
    before = _tree(root)
    proc = _intake(root, make(tmp_path))
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert len(proc.stderr.splitlines()) == 1 and proc.stderr.startswith("intake: error: ")
    assert message in proc.stderr
    assert _tree(root) == before


def test_course_without_release_is_refused(tmp_path):
    root = course.create_course(tmp_path / "course")
    proc = _intake(root, _zip(tmp_path / "m.zip", {f"A_1_assignsubmission_file_{NOTEBOOK}": "{}"}))
    assert proc.returncode == 2
    assert "run `nbgrader generate_assignment nn_basics` there first" in proc.stderr
    assert not (root / "submitted").exists()


# --- nbgrader exchange ---------------------------------------------------------------------

def test_exchange_release_fetch_submit_collect_round_trip(tmp_path):
    root = _course(tmp_path / "course")
    exchange = f"--Exchange.root={tmp_path / 'exchange'}"
    course.run_nbgrader(root, "release_assignment", ASSIGNMENT, exchange)

    submitted = {}
    for student, sample in [("alice", CORRECT), ("bob", BLANK)]:
        home = tmp_path / student  # the student's own working folder
        home.mkdir()
        course.run_nbgrader(home, "fetch_assignment", ASSIGNMENT, f"--course={COURSE_ID}", exchange)
        fetched = home / ASSIGNMENT / NOTEBOOK
        nb = course.fill_answers(nbformat.read(fetched, as_version=4), sample_class()[sample])
        nbformat.write(nb, fetched)
        submitted[student] = fetched.read_text("utf-8")
        course.run_nbgrader(home, "submit", ASSIGNMENT, f"--course={COURSE_ID}", f"--student={student}", exchange)

    course.run_nbgrader(root, "collect", ASSIGNMENT, exchange)
    assert sorted(p.name for p in (root / "submitted").iterdir()) == ["alice", "bob"]
    for student, text in submitted.items():
        assert _submitted(root, student).read_text("utf-8") == text
        assert (root / "submitted" / student / ASSIGNMENT / "timestamp.txt").is_file()


# --- Hostile uploads: one student's upload never blocks or takes over another's --------------
# The zips are written byte by byte (tests/zip_kit.py) where zipfile would refuse to write the
# attack: names in cp932 without the UTF-8 flag, symbolic links, sizes that lie.

TARO, HANAKO, JIRO = "Taro Yamada_111", "Hanako Sato_222", "Jiro Suzuki_333"


def _moodle(student: str, upload: str) -> str:
    return f"{student}_assignsubmission_file_{upload}"


def _honest(tmp_path: Path, members: list[zip_kit.Entry]) -> tuple[Path, dict[str, str]]:
    """An LMS zip with Hanako's and Jiro's honest notebooks plus ``members`` (Taro's upload)."""
    notebooks = {"222": _notebook(CORRECT), "333": _notebook(BLANK)}
    honest = [zip_kit.entry(_moodle(HANAKO, NOTEBOOK), notebooks["222"]),
              zip_kit.entry(_moodle(JIRO, NOTEBOOK), notebooks["333"])]
    return zip_kit.write(tmp_path / "download.zip", [*members, *honest]), notebooks


def _filed(root: Path) -> dict[str, str]:
    """Every file intake left under ``submitted/``, with its text."""
    folder = root / "submitted"
    return {str(p.relative_to(folder)): p.read_text("utf-8") for p in sorted(folder.rglob("*")) if p.is_file()}


def _expect_refused(tmp_path: Path, taro: list[zip_kit.Entry], reason: str) -> None:
    """Taro's upload is refused with ``reason``; Hanako and Jiro are filed with their own notebooks."""
    root = _course(tmp_path / "course")
    archive, notebooks = _honest(tmp_path, taro)
    proc = _intake(root, archive)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.splitlines() == [
        f"Collected 2 submission(s) into {root / 'submitted'}: 222, 333",
        f"Refused 111 (Taro Yamada): {reason}",
    ]
    assert proc.stderr == ""
    assert _filed(root) == {f"{s}/{ASSIGNMENT}/{NOTEBOOK}": text for s, text in notebooks.items()}
    assert not list(root.glob(".intake-*")), "the staging directory was left behind"


def test_nested_zip_with_another_students_lms_name_is_refused_for_the_uploader_only(tmp_path):
    """The issue's case: before, intake refused the whole class (two notebooks for student 222)."""
    inner = zip_kit.bytes_of([zip_kit.entry(_moodle(HANAKO, NOTEBOOK), _notebook(CORRECT))])
    _expect_refused(tmp_path, [zip_kit.entry(_moodle(TARO, "work.zip"), inner)],
                    f"'work.zip' holds '{_moodle(HANAKO, NOTEBOOK)}', named like student 222's upload")


def test_nested_lms_name_is_never_filed_as_the_student_it_names(tmp_path):
    """Without Hanako's own upload, her name in Taro's zip must not create a submission for her."""
    root = _course(tmp_path / "course")
    inner = zip_kit.bytes_of([zip_kit.entry(_moodle(HANAKO, NOTEBOOK), _notebook(CORRECT))])
    archive = zip_kit.write(tmp_path / "d.zip", [zip_kit.entry(_moodle(TARO, "work.zip"), inner),
                                                 zip_kit.entry(_moodle(JIRO, NOTEBOOK), _notebook(BLANK))])
    proc = _intake(root, archive)
    assert proc.returncode == 1
    assert sorted(p.name for p in (root / "submitted").iterdir()) == ["333"]


def test_file_named_like_another_student_in_a_moodle_folder_is_refused(tmp_path):
    """nbgrader's zip_collect reads the id from the last folder: this file would have been 222's."""
    _expect_refused(tmp_path, [zip_kit.entry(f"{TARO}_assignsubmission_file_/{_moodle(HANAKO, NOTEBOOK)}", "{}")],
                    f"'{_moodle(HANAKO, NOTEBOOK)}' is named like student 222's upload")


def test_notebook_zipped_by_the_student_is_filed_as_theirs(tmp_path):
    root = _course(tmp_path / "course")
    mine = _notebook(CORRECT)
    inner = zip_kit.bytes_of([zip_kit.entry("nn_basics/", b"", mode=stat.S_IFDIR | 0o755),
                              zip_kit.entry(f"nn_basics/{NOTEBOOK}", mine),
                              zip_kit.entry("__MACOSX/nn_basics/._nn_basics.ipynb", b"\0\5\26\7")])
    archive, notebooks = _honest(tmp_path, [zip_kit.entry(_moodle(TARO, "nn_basics.zip"), inner)])
    proc = _intake(root, archive)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines() == [f"Collected 3 submission(s) into {root / 'submitted'}: 111, 222, 333"]
    assert _filed(root) == {f"{s}/{ASSIGNMENT}/{NOTEBOOK}": text for s, text in {"111": mine, **notebooks}.items()}


@pytest.mark.parametrize(("inner", "reason"), [
    ([zip_kit.entry(f"../../{NOTEBOOK}", "{}")], f"in 'work.zip': '../../{NOTEBOOK}' climbs out of its folder (zip slip)"),
    ([zip_kit.entry(f"/tmp/{NOTEBOOK}", "{}")], f"in 'work.zip': '/tmp/{NOTEBOOK}' is an absolute path"),
    ([zip_kit.entry(f"C:\\Users\\{NOTEBOOK}", "{}")], f"in 'work.zip': 'C:/Users/{NOTEBOOK}' is an absolute path"),
    ([zip_kit.entry(NOTEBOOK, "../../../source/nn_basics/nn_basics.ipynb", mode=stat.S_IFLNK | 0o777)],
     f"in 'work.zip': '{NOTEBOOK}' is a symbolic link"),
    ([zip_kit.entry("fifo", b"", mode=stat.S_IFIFO | 0o644), zip_kit.entry(NOTEBOOK, "{}")],
     "in 'work.zip': 'fifo' is a special file (device, FIFO or socket)"),
    ([zip_kit.entry(NOTEBOOK, "{}", flags=0x1)], f"in 'work.zip': '{NOTEBOOK}' is password-protected"),
    ([zip_kit.entry("inner.zip", zip_kit.bytes_of([zip_kit.entry(NOTEBOOK, "{}")]))],
     "'work.zip' holds another archive ('inner.zip'); intake opens one level only"),
    ([zip_kit.entry(NOTEBOOK, "{}"), zip_kit.entry(f"copy/{NOTEBOOK}", "{}")],
     f"'work.zip' holds 2 copies of {NOTEBOOK}; keep one and run again"),
], ids=["slip", "absolute", "windows-absolute", "symlink", "fifo", "encrypted", "archive-in-archive", "two-copies"])
def test_dangerous_member_in_a_students_zip_refuses_that_upload(tmp_path, inner, reason):
    _expect_refused(tmp_path, [zip_kit.entry(_moodle(TARO, "work.zip"), zip_kit.bytes_of(inner))], reason)
    assert not (tmp_path / NOTEBOOK).exists() and not (tmp_path.parent / NOTEBOOK).exists()


@pytest.mark.parametrize(("members", "reason"), [
    ([zip_kit.entry(f"{TARO}_assignsubmission_file_/../../{NOTEBOOK}", "{}")],
     f"'../../{NOTEBOOK}' climbs out of its folder (zip slip)"),
    ([zip_kit.entry(_moodle(TARO, NOTEBOOK), "/etc/passwd", mode=stat.S_IFLNK | 0o777)],
     f"'{NOTEBOOK}' is a symbolic link"),
    ([zip_kit.entry(_moodle(TARO, NOTEBOOK), "{}"), zip_kit.entry(f"{TARO}_assignsubmission_file_/{NOTEBOOK}", "{}")],
     f"2 copies of {NOTEBOOK} ({NOTEBOOK}, {NOTEBOOK}); keep one and run again"),
], ids=["slip", "symlink", "two-copies"])
def test_dangerous_member_in_the_download_refuses_only_its_student(tmp_path, members, reason):
    _expect_refused(tmp_path, members, reason)


# A zip bomb: 1 GiB of zeros, about 1 MiB compressed (built once: deflating 1 GiB takes seconds).
GIB = 1 << 30


@pytest.fixture(scope="module")
def gigabyte() -> zip_kit.Deflated:
    return zip_kit.deflate_zeros(GIB)


def test_zip_bomb_in_the_download_writes_nothing(tmp_path, gigabyte):
    assert len(gigabyte.data) < 2 << 20
    _expect_refused(tmp_path, [zip_kit.entry(_moodle(TARO, NOTEBOOK), gigabyte)],
                    f"'{NOTEBOOK}' declares {GIB:,} bytes (limit {64 << 20:,})")


def test_zip_bomb_inside_a_students_zip_writes_nothing(tmp_path, gigabyte):
    inner = zip_kit.bytes_of([zip_kit.entry(NOTEBOOK, gigabyte)])
    _expect_refused(tmp_path, [zip_kit.entry(_moodle(TARO, "nn_basics.zip"), inner)],
                    f"'nn_basics.zip!{NOTEBOOK}' declares {GIB:,} bytes (limit {64 << 20:,})")


def test_zip_bomb_that_declares_a_small_size_is_stopped_while_streaming(tmp_path, gigabyte):
    liar = zip_kit.Deflated(gigabyte.data, size=1000, crc=gigabyte.crc)
    _expect_refused(tmp_path, [zip_kit.entry(_moodle(TARO, NOTEBOOK), liar)],
                    f"'{NOTEBOOK}' expands beyond the 1,000 bytes it declares")


def test_zip_bomb_below_the_size_cap_is_stopped_by_the_ratio_cap(tmp_path):
    _expect_refused(tmp_path, [zip_kit.entry(_moodle(TARO, NOTEBOOK), zip_kit.deflate_zeros(16 << 20))],
                    f"'{NOTEBOOK}' expands {(16 << 20) // len(zip_kit.deflate_zeros(16 << 20).data):,} times "
                    "(compression-ratio limit 200)")


def test_total_cap_refuses_the_students_past_it_and_files_the_rest(tmp_path):
    root = _course(tmp_path / "course")
    notebook = _notebook(BLANK)
    size = len(notebook.encode("utf-8"))
    archive = zip_kit.write(tmp_path / "d.zip", [zip_kit.entry(_moodle(s, NOTEBOOK), notebook)
                                                 for s in (TARO, HANAKO, JIRO)])
    summary = intake.collect(archive, root, limits=safe_zip.Limits(total_bytes=2 * size))
    assert summary.collected == ["111", "222"]
    assert summary.refused == {"333 (Jiro Suzuki)": f"this intake already wrote its limit of {2 * size:,} bytes"}
    assert sorted(p.name for p in (root / "submitted").iterdir()) == ["111", "222"]


def test_japanese_names_without_the_utf8_flag_are_decoded(tmp_path):
    """Windows' own zip writes cp932 names and no UTF-8 flag; a cp932 byte may be 0x5C, a backslash."""
    root = _course(tmp_path / "course")
    notebook = _notebook(CORRECT)
    inner = zip_kit.bytes_of([zip_kit.entry("ソフト表示/nn_basics.ipynb".encode("cp932"), notebook)])
    archive = zip_kit.write(tmp_path / "d.zip", [
        zip_kit.entry(_moodle("山田 太郎_777", "提出.zip").encode("cp932"), inner),
        zip_kit.entry(_moodle("佐藤 花子_778", "ノート.ipynb").encode("cp932"), notebook),
    ])
    proc = _intake(root, archive)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        f"Collected 1 submission(s) into {root / 'submitted'}: 777",
        f"Skipped 778 (佐藤 花子): no {NOTEBOOK} in the upload (ノート.ipynb)",
    ]
    assert _submitted(root, "777").read_text("utf-8") == notebook


def test_failure_while_moving_in_puts_everything_back(tmp_path, monkeypatch):
    """A move that fails half-way (a full disk, a permission) leaves every student as before."""
    root = _course(tmp_path / "course")
    old = _notebook(BLANK)
    course.submit(root, "222", nbformat.reads(old, as_version=4))
    before = _tree(root)
    archive, _ = _honest(tmp_path, [zip_kit.entry(_moodle(TARO, NOTEBOOK), _notebook(CORRECT))])

    real_rename = Path.rename

    def rename(self: Path, target: Path) -> Path:
        if Path(target).parts[-2:] == ("333", ASSIGNMENT):
            raise OSError(28, "No space left on device")
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", rename)
    with pytest.raises(OSError):
        intake.collect(archive, root, force=True)
    assert _tree(root) == before


def test_failure_while_moving_in_leaves_no_submitted_folder(tmp_path, monkeypatch):
    root = _course(tmp_path / "course")
    before = _tree(root)
    archive, _ = _honest(tmp_path, [])

    def rename(self: Path, target: Path) -> Path:
        raise OSError(13, "Permission denied")

    monkeypatch.setattr(Path, "rename", rename)
    with pytest.raises(OSError):
        intake.collect(archive, root)
    assert _tree(root) == before


# --- Member names, decoded as their author wrote them ------------------------------------

def _info(entry: zip_kit.Entry) -> zipfile.ZipInfo:
    return zipfile.ZipFile(io.BytesIO(zip_kit.bytes_of([entry]))).infolist()[0]


def _unicode_path_field(name: str, raw: bytes) -> bytes:
    body = b"\x01" + struct.pack("<L", zlib.crc32(raw)) + name.encode("utf-8")
    return struct.pack("<HH", 0x7075, len(body)) + body


@pytest.mark.parametrize(("raw", "flags", "decoded"), [
    ("山田/表.ipynb".encode("utf-8"), 0x800, "山田/表.ipynb"),     # flagged UTF-8
    ("山田/表.ipynb".encode("utf-8"), 0, "山田/表.ipynb"),         # UTF-8 without the flag (old macOS, Linux zip)
    ("山田\\表.ipynb".encode("cp932"), 0, "山田/表.ipynb"),        # Windows: cp932, backslash separator; 表 ends in 0x5C
    (b"caf\x82.ipynb", 0, "café.ipynb"),                          # neither: cp437, the zip format's default
])
def test_member_names_are_decoded_sensibly(raw, flags, decoded):
    assert safe_zip.entry_name(_info(zip_kit.entry(raw, "{}", flags=flags))) == decoded


def test_info_zip_unicode_path_field_wins_when_it_matches_the_name():
    raw = "ｶﾀｶﾅ.ipynb".encode("cp932")  # half-width katakana: also valid cp437, and valid nothing else useful
    info = _info(zip_kit.entry(raw, "{}"))
    info.extra = _unicode_path_field("カタカナ.ipynb", raw)
    assert safe_zip.entry_name(info) == "カタカナ.ipynb"
    info.extra = _unicode_path_field("stale.ipynb", b"another name")  # written for a name since changed
    assert safe_zip.entry_name(info) == "ｶﾀｶﾅ.ipynb"


def test_control_characters_in_names_are_refused_and_never_printed_raw():
    info = _info(zip_kit.entry(b"nn_basics\x1b[2J.ipynb", "{}"))
    name = safe_zip.entry_name(info)
    assert safe_zip.unsafe(info, name) == "'nn_basics\\x1b[2J.ipynb' has control characters in its name"
