"""The submission-folder checks, without nbgrader or a kernel: what is refused, ignored, read."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

import pytest

from autograder.submission_folder import (
    MAX_BYTES, MAX_ENTRIES, FolderRefused, copy_accepted, digest, inspect_folder, listing_digest,
    read_timestamp, student_id_problem,
)

NOTEBOOKS = ("nn_basics",)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    sub = tmp_path / "submitted" / "s01" / "nn_basics"
    sub.mkdir(parents=True)
    (sub / "nn_basics.ipynb").write_text('{"cells": []}')
    (sub / "timestamp.txt").write_text("2026-12-01 10:00:00.000000 UTC")
    return sub


def _refusal(folder: Path) -> str:
    with pytest.raises(FolderRefused) as info:
        inspect_folder(folder, NOTEBOOKS)
    return str(info.value)


def test_a_plain_folder_is_listed_with_its_notebook(folder):
    (folder / "notes").mkdir()
    (folder / "notes" / "a.txt").write_text("hello")
    listing = inspect_folder(folder, NOTEBOOKS)
    assert listing.files == (("nn_basics.ipynb", 13), ("notes/a.txt", 5), ("timestamp.txt", 30))
    assert listing.notebooks == ("nn_basics.ipynb",) and listing.ignored == ()


def test_a_symlinked_notebook_is_refused(folder, tmp_path):
    source = tmp_path / "source" / "nn_basics" / "nn_basics.ipynb"
    source.parent.mkdir(parents=True)
    source.write_text("instructor's solution")
    (folder / "nn_basics.ipynb").unlink()
    (folder / "nn_basics.ipynb").symlink_to("../../../source/nn_basics/nn_basics.ipynb")
    assert _refusal(folder) == "nn_basics.ipynb is a symbolic link (links are not graded)"


@pytest.mark.parametrize("target", ["../../../gradebook.db", "/etc/passwd", "missing", "."])
def test_a_symlinked_side_file_or_folder_anywhere_is_refused(folder, target):
    (folder / "deep" / "er").mkdir(parents=True)
    (folder / "deep" / "er" / "data.csv").symlink_to(target)
    assert _refusal(folder) == "deep/er/data.csv is a symbolic link (links are not graded)"


def test_the_submission_folder_itself_must_not_be_a_link(folder, tmp_path):
    link = tmp_path / "submitted" / "s02"
    link.mkdir()
    (link / "nn_basics").symlink_to(folder)
    assert _refusal(link / "nn_basics").startswith("the submission folder cannot be opened as a folder")


def test_a_fifo_named_timestamp_is_refused_without_blocking(folder):
    (folder / "timestamp.txt").unlink()
    os.mkfifo(folder / "timestamp.txt")
    assert _refusal(folder) == "timestamp.txt is a FIFO (named pipe), not a file"
    with pytest.raises(FolderRefused, match="FIFO"):
        read_timestamp(folder)  # the reader alone does not block on it either


def test_a_socket_is_refused(folder):
    path = folder / "sock"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
        assert _refusal(folder) == "sock is a socket, not a file"
    finally:
        server.close()


def test_a_device_file_is_refused(folder):
    os.mknod(folder / "zero", 0o600 | 0o020000, os.makedev(1, 5))  # a character device like /dev/zero
    assert _refusal(folder) == "zero is a device file, not a file"


def test_a_sparse_huge_file_is_refused_before_it_is_read(folder):
    with (folder / "huge.bin").open("wb") as f:
        f.truncate(2**40)  # 1 TiB, no blocks on disk
    assert _refusal(folder) == f"the files are larger than {MAX_BYTES // 2**20} MiB in total"


def test_too_many_files_are_refused(folder):
    for i in range(MAX_ENTRIES):
        (folder / f"f{i:04d}").write_text("")
    assert _refusal(folder) == f"the folder holds more than {MAX_ENTRIES} files and folders"


def test_a_folder_named_like_the_notebook_is_refused(folder):
    (folder / "nn_basics.ipynb").unlink()
    (folder / "nn_basics.ipynb").mkdir()
    assert _refusal(folder) == "nn_basics.ipynb is a folder, not a notebook file"


def test_a_stray_notebook_is_ignored_never_read_hashed_or_copied(folder, tmp_path):
    before = digest(folder, inspect_folder(folder, NOTEBOOKS))
    (folder / "Untitled.ipynb").write_text("")
    listing = inspect_folder(folder, NOTEBOOKS)
    assert listing.ignored == ("Untitled.ipynb",) and listing.notebooks == ("nn_basics.ipynb",)
    assert digest(folder, listing) == before
    copy_accepted(folder, listing, tmp_path / "copy")
    assert sorted(p.name for p in (tmp_path / "copy").iterdir()) == ["nn_basics.ipynb", "timestamp.txt"]


def test_a_stray_folder_named_ipynb_is_no_notebook_but_is_listed(folder):
    (folder / "Untitled.ipynb").mkdir()
    listing = inspect_folder(folder, NOTEBOOKS)
    assert listing.ignored == () and listing.notebooks == ("nn_basics.ipynb",)


def test_the_digest_changes_with_content_and_names(folder):
    first = digest(folder, inspect_folder(folder, NOTEBOOKS))
    (folder / "nn_basics.ipynb").write_text('{"cells": [1]}')
    second = digest(folder, inspect_folder(folder, NOTEBOOKS))
    (folder / "extra.txt").write_text("")
    third = digest(folder, inspect_folder(folder, NOTEBOOKS))
    assert len({first, second, third}) == 3


def test_a_file_swapped_for_a_link_after_listing_is_not_followed(folder, tmp_path):
    listing = inspect_folder(folder, NOTEBOOKS)
    secret = tmp_path / "secret"
    secret.write_text("x" * 13)
    (folder / "nn_basics.ipynb").unlink()
    (folder / "nn_basics.ipynb").symlink_to(secret)
    with pytest.raises(FolderRefused, match="nn_basics.ipynb cannot be read"):
        copy_accepted(folder, listing, tmp_path / "copy")


def test_a_file_swapped_for_a_fifo_after_listing_does_not_block(folder, tmp_path):
    listing = inspect_folder(folder, NOTEBOOKS)
    (folder / "nn_basics.ipynb").unlink()
    os.mkfifo(folder / "nn_basics.ipynb")
    result: list[BaseException] = []

    def read() -> None:
        try:
            digest(folder, listing)
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            result.append(exc)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(60)  # a blocking open would never return; this is not a speed limit
    assert not reader.is_alive()
    assert isinstance(result[0], FolderRefused) and "FIFO" in str(result[0])


def test_a_file_that_grew_after_listing_is_refused(folder, tmp_path):
    listing = inspect_folder(folder, NOTEBOOKS)
    (folder / "nn_basics.ipynb").write_text('{"cells": []}' + " " * 100)
    with pytest.raises(FolderRefused, match="grew"):
        digest(folder, listing)


def test_timestamp_is_read_with_a_cap(folder):
    assert read_timestamp(folder) == "2026-12-01 10:00:00.000000 UTC"
    (folder / "timestamp.txt").write_text("1" * 5000)
    with pytest.raises(FolderRefused, match="larger than 4096 bytes"):
        read_timestamp(folder)
    assert _refusal(folder) == "timestamp.txt is larger than 4096 bytes"
    (folder / "timestamp.txt").unlink()
    assert read_timestamp(folder) is None


def test_a_refused_folder_still_has_a_stable_fingerprint_that_follows_changes(folder):
    (folder / "link").symlink_to("/etc/passwd")
    first = listing_digest(folder)
    assert listing_digest(folder) == first
    (folder / "link").unlink()
    (folder / "link").symlink_to("/etc/hostname-and-more")  # a longer target: another size
    assert listing_digest(folder) != first


@pytest.mark.parametrize("student, problem", [
    ("[g]01", "contains [ ]"), ("g*", "contains *"), ("g?1", "contains ?"), ("a/b", "contains /"),
    ("a\\b", "contains \\"), ("..", "'..'"), ("a..b", "'..'"), ("-rf", "starts with '-'"),
    ("g01 ", "white space"), (" g01", "white space"), ("g\n01", "control characters"),
    ("g\x1b[31m", "contains ["), ("g\u200b01", "control characters"), ("", "empty"),
])
def test_student_ids_nbgrader_would_read_as_patterns_or_paths_are_refused(student, problem):
    assert problem in student_id_problem(student)


@pytest.mark.parametrize("student", ["s01", "alice.smith", "田中太郎", "a+b@example.org", "x_crash", "a b"])
def test_ordinary_student_ids_pass(student):
    assert student_id_problem(student) == ""
