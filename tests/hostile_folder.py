"""Attacks through the submission folder: links, special files, stray notebooks, odd ids.

nbgrader trusts the submitted folder: it globs it, copies its files (following links) into the
kernel's folder and reads ``timestamp.txt`` with a blocking ``open``. Each case here changes
the folder after the notebook is written (``prepare``) or uses a student id nbgrader would read
as a pattern. A refused folder is recorded as a zero with the reason's first words in
``failure``; everyone else, the honest student next to a stray notebook included, gets exactly
the points of their answers.
"""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

import nbformat

from hostile_kit import AXIS0, SOLUTION, HostileCase, expect


def _stray_empty_notebook(folder: Path, root: Path) -> None:
    (folder / "Untitled.ipynb").write_bytes(b"")


def _stray_broken_notebooks(folder: Path, root: Path) -> None:
    (folder / "scratch.ipynb").write_text("{ not a notebook")
    (folder / "Untitled.ipynb").mkdir()  # a folder named like a notebook the assignment does not have
    (folder / "Untitled.ipynb" / "x.txt").write_text("")


def _notebook_links_to_source(folder: Path, root: Path) -> None:
    (folder / "nn_basics.ipynb").unlink()
    (folder / "nn_basics.ipynb").symlink_to("../../../source/nn_basics/nn_basics.ipynb")


def _side_files_link_to_grader_files(folder: Path, root: Path) -> None:
    (folder / "a_gradebook.db").symlink_to(root / "gradebook.db")
    (folder / "b_other.ipynb.txt").symlink_to(root / "submitted" / "h01_sys_exit" / "nn_basics" / "nn_basics.ipynb")
    (folder / "c_source").symlink_to(root / "source")


def _linked_folder_deep_inside(folder: Path, root: Path) -> None:
    (folder / "data" / "raw").mkdir(parents=True)
    (folder / "data" / "raw" / "all").symlink_to("/")


def _fifo_timestamp(folder: Path, root: Path) -> None:
    os.mkfifo(folder / "timestamp.txt")


def _sparse_terabyte(folder: Path, root: Path) -> None:
    with (folder / "weights.bin").open("wb") as f:
        f.truncate(2**40)


def _socket_file(folder: Path, root: Path) -> None:
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(folder / "kernel.sock"))  # the socket's file stays after it is closed
    server.close()


def _device_file(folder: Path, root: Path) -> None:
    os.mknod(folder / "zero", 0o600 | stat.S_IFCHR, os.makedev(1, 5))  # /dev/zero: reading never ends


def _many_files(folder: Path, root: Path) -> None:
    for i in range(300):
        (folder / f"part{i:03d}.txt").write_text("")


def _folder_named_like_the_notebook(folder: Path, root: Path) -> None:
    notebook = folder / "nn_basics.ipynb"
    inside = folder / "moved.ipynb"
    notebook.rename(inside)
    notebook.mkdir()
    inside.rename(notebook / "nn_basics.ipynb")


def _cell_before_setup_breaks_imports(nb: nbformat.NotebookNode) -> None:
    """The student's own first cell makes the given import cell fail: their doing, graded as usual."""
    first_code = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
    nb.cells.insert(first_code, nbformat.v4.new_code_cell("import sys\nsys.modules['scipy.special'] = None"))


AXIS0_VERDICTS = expect(check_argmax_axis="argmax.axis0", check_accuracy_score="input.missing")  # 11 points

# A refused folder (``failure``) is recorded as 0 whatever its answers would earn.
CASES: list[HostileCase] = [
    # Stray notebooks are ignored, as nbgrader ignores them: the honest answer keeps its 15 points.
    HostileCase("f01_untitled_beside_correct", SOLUTION, expect(), prepare=_stray_empty_notebook),
    HostileCase("f02_broken_strays_beside_axis0", AXIS0, AXIS0_VERDICTS,
                prepare=_stray_broken_notebooks),
    # Links anywhere are refused before anything reads them: no solutions in autograded/ or feedback/.
    HostileCase("f03_notebook_links_to_source", SOLUTION, expect(), prepare=_notebook_links_to_source,
                failure="nn_basics.ipynb is a symbolic link"),
    HostileCase("f04_side_files_link_to_gradebook", SOLUTION, expect(), prepare=_side_files_link_to_grader_files,
                failure="a_gradebook.db is a symbolic link"),
    HostileCase("f05_link_to_root_deep_inside", SOLUTION, expect(), prepare=_linked_folder_deep_inside,
                failure="data/raw/all is a symbolic link"),
    # Special files and sizes that used to hang the batch or kill the coordinator.
    HostileCase("f06_fifo_timestamp", SOLUTION, expect(), prepare=_fifo_timestamp,
                failure="timestamp.txt is a FIFO (named pipe)"),
    HostileCase("f07_sparse_terabyte", SOLUTION, expect(), prepare=_sparse_terabyte,
                failure="the files are larger than 256 MiB in total"),
    HostileCase("f08_socket", SOLUTION, expect(), prepare=_socket_file, failure="kernel.sock is a socket"),
    HostileCase("f09_device_file", SOLUTION, expect(), prepare=_device_file, failure="zero is a device file"),
    HostileCase("f10_three_hundred_files", SOLUTION, expect(), prepare=_many_files,
                failure="the folder holds more than 200 files and folders"),
    HostileCase("f11_folder_named_like_notebook", SOLUTION, expect(), prepare=_folder_named_like_the_notebook,
                failure="nn_basics.ipynb is a folder, not a notebook file"),
    # Student ids nbgrader reads as a glob: "[f]12" matched "f12", whose notebook was graded in its place.
    HostileCase("f12", AXIS0, AXIS0_VERDICTS),
    HostileCase("[f]12", SOLUTION, expect(), failure="the student id '[f]12' contains [ ]"),
    HostileCase("f1?", SOLUTION, expect(), failure="the student id 'f1?' contains ?"),
    HostileCase("-f14", SOLUTION, expect(), failure="the student id '-f14' starts with '-'"),
    HostileCase("f15 ", SOLUTION, expect(), failure="the student id 'f15 ' starts or ends with white space"),
    # Breaking the given import cell from one's own cell above it is no way out of a grade: numpy and
    # TensorFlow were imported before the poisoned import failed, so the model is built and compiled
    # (4 points), but no data was loaded and nothing after it could run.
    HostileCase("f16_cell_before_setup_breaks_imports", SOLUTION,
                expect(check_training="training.not_fitted", check_accuracy="input.missing",
                       check_probability="input.missing", check_first_label="input.missing_upstream",
                       check_argmax_axis="input.missing_upstream", check_accuracy_score="input.missing_upstream"),
                mutate=_cell_before_setup_breaks_imports),
]
