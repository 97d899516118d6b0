"""Throughput of the bulk grader: against sequential ``nbgrader autograde``, and against the physical limit.

    python benchmarks/bulk_throughput.py [--copies N] [--full] [--workers N] [--dir DIR]

One run, one machine:

1. Two identical course directories get N copies of the bundled sample class
   (:mod:`autograder.sample_class`, 8 submissions each).
2. **Sequential**: ``nbgrader autograde nn_basics --student X --force`` for every submission,
   one after the other, as a course grades without this tool.
3. **Bulk**: ``python -m autograder grade`` with its defaults (a local Dask cluster with one
   worker per core), including the cluster's and workers' start-up.
4. The verdicts (score and mistake id of every check of every submission) must be identical.
5. **Physical limit**: each filled notebook once more, with only the student's own cells (the
   imports, data loading and the three practices; no test cells), in a plain kernel that is
   started before timing begins. The limit is the CPU time (user + system) the kernels spent
   in those cells, summed over the class and divided by the number of cores: the shortest wall
   time in which this machine could execute the students' code at all, wasting nothing. (The
   wall time of those cells divided by the cores is printed too; it is lower whenever
   TensorFlow spreads one training over several cores, so it is not a reachable bound.)

``--full`` grades on 60 000 training rows of Fashion-MNIST (Debian's ``dataset-fashion-mnist``)
instead of the embedded 4 000-row sample. The machine may be shared: the load average before
and after each phase is printed; compare runs only at similar load.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import psutil
from nbclient import NotebookClient

from autograder import course
from autograder.bulk import BatchOptions, grade_assignment
from autograder.sample_class import sample_class

FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def build(root: Path, copies: int) -> list[str]:
    """A released course with ``copies`` copies of the sample class submitted."""
    course.create_course(root)
    course.run_nbgrader(root, "generate_assignment", course.ASSIGNMENT, "--force")
    release = course.release_notebook(root)
    students = []
    for copy in range(1, copies + 1):
        for name, answers in sample_class().items():
            student = f"{name}-c{copy}"
            course.submit(root, student, course.fill_answers(release, answers))
            students.append(student)
    return students


def verdicts(root: Path, student: str) -> dict[str, tuple]:
    return {check: (r.score, r.verdict.mistake_id if r.verdict else None)
            for check, r in course.autograded_results(root, student).items()}


def student_code_cost(notebook: Path) -> tuple[float, float]:
    """(wall s, kernel CPU s) of the notebook's non-test code cells in a pre-started plain kernel."""
    nb = nbformat.read(notebook, as_version=4)
    nb.cells = [c for c in nb.cells if c.cell_type == "code" and not c.metadata.get("nbgrader", {}).get("grade")]
    with tempfile.TemporaryDirectory() as workdir:
        client = NotebookClient(nb, timeout=1800, allow_errors=True, kernel_name="python3",
                                resources={"metadata": {"path": workdir}})
        wall = cpu = 0.0
        with client.setup_kernel(stderr=subprocess.DEVNULL):  # ipykernel's shutdown noise
            kernel = psutil.Process(client.km.provisioner.pid)
            for index, cell in enumerate(nb.cells):
                before, started = kernel.cpu_times(), time.perf_counter()
                client.execute_cell(cell, index)
                wall += time.perf_counter() - started
                after = kernel.cpu_times()
                cpu += (after.user - before.user) + (after.system - before.system)
    return wall, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=2, help="copies of the 8-submission sample class")
    parser.add_argument("--full", action="store_true", help="60 000 rows of Fashion-MNIST instead of the sample")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="bulk grader workers")
    parser.add_argument("--dir", type=Path, help="work directory (default: a temporary one, removed)")
    args = parser.parse_args()
    if args.full:
        os.environ["AUTOGRADER_MNIST"] = str(FASHION_MNIST)
    os.environ.update(course.grading_env())
    work = args.dir or Path(tempfile.mkdtemp(prefix="bulk-benchmark-"))
    cores = os.cpu_count() or 1
    try:
        students = build(work / "sequential", args.copies)
        build(work / "bulk", args.copies)
        data = "Fashion-MNIST, 60 000 training rows" if args.full else "embedded sample, 4 000 training rows"
        print(f"{len(students)} submissions ({args.copies} x sample class), {data}, {cores} cores")

        print(f"sequential nbgrader ...   load {load()}", flush=True)
        started = time.perf_counter()
        for student in students:
            course.run_nbgrader(work / "sequential", "autograde", course.ASSIGNMENT, "--student", student, "--force")
        sequential = time.perf_counter() - started

        print(f"bulk grader ...           load {load()}", flush=True)
        started = time.perf_counter()
        report = grade_assignment(BatchOptions(root=work / "bulk", workers=args.workers, progress=io.StringIO()))
        bulk = time.perf_counter() - started
        assert report.exit_code == 0, [r for r in report.rows if r.status is None or r.reason]

        print(f"student code, plain kernels ... load {load()}", flush=True)
        wall = cpu = 0.0
        for student in students:
            w, c = student_code_cost(work / "bulk" / "submitted" / student / course.ASSIGNMENT / course.NOTEBOOK)
            wall, cpu = wall + w, cpu + c
        print(f"done                      load {load()}")

        differing = [s for s in students if verdicts(work / "sequential", s) != verdicts(work / "bulk", s)]
        limit = cpu / cores
        print()
        print(f"sequential nbgrader autograde : {sequential:8.1f} s  ({sequential / len(students):.1f} s per submission)")
        print(f"bulk grader, {args.workers} workers        : {bulk:8.1f} s  ({bulk / len(students):.1f} s per submission)")
        print(f"student code: CPU {cpu:.1f} s, wall {wall:.1f} s; physical limit = CPU / {cores} cores = {limit:.1f} s")
        print(f"verdicts identical            : {'yes' if not differing else 'NO: ' + ', '.join(differing)}")
        print(f"throughput ratio (sequential / bulk)     : {sequential / bulk:5.2f}x")
        print(f"bulk wall / physical limit               : {bulk / limit:5.2f}x")
        print(f"(bulk wall / (student wall / cores)      : {bulk / (wall / cores):5.2f}x)")
        return 0 if not differing else 1
    finally:
        if args.dir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
