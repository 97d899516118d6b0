"""``python -m autograder grade [ASSIGNMENT]``: grade every submission of an assignment.

Run in a course directory (or pass ``--course``). Exit status: 0 when every submission has a
recorded grade (a crash, hang, memory overrun, unreadable notebook file or refused folder is
recorded as a zero with its reason), 1 when some submission could not be graded at all (or a
broken grading environment stopped the batch midway), 2 for unusable input, 3 when the probe
found the grading environment broken before any submission was graded, 130 after Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

from .batch import DEFAULT_TIMEOUT, ENVIRONMENT_BROKEN, BatchOptions, BulkInputError, EnvironmentBroken, grade_assignment
from .report import summary

_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?\s*$", re.IGNORECASE)


def memory_size(text: str) -> int:
    """``4G``, ``512M``, ``1.5GiB`` or a number of bytes."""
    match = _SIZE.match(text)
    if not match:
        raise argparse.ArgumentTypeError(f"not a memory size: {text!r} (use e.g. 4G or 512M)")
    return int(float(match.group(1)) * _UNITS[match.group(2).upper()])


def positive_int(text: str) -> int:
    value = int(text) if text.isdigit() else 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number: {text!r}")
    return value


def seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value < 0:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("assignment", nargs="?", help="assignment to grade (default: the gradebook's only one)")
    parser.add_argument("--course", type=Path, default=Path("."), metavar="DIR",
                        help="course directory (default: the current directory)")
    parser.add_argument("--workers", type=positive_int, default=os.cpu_count() or 1, metavar="N",
                        help="worker processes of the local Dask cluster (default: %(default)s, the cores)")
    parser.add_argument("--students", metavar="GLOB", help="grade only student ids matching this pattern")
    parser.add_argument("--force", action="store_true", help="re-grade submissions that have not changed")
    parser.add_argument("--timeout", type=seconds, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                        help="time limit per submission, counted from its kernel's start; 0 for none (default: %(default)g)")
    parser.add_argument("--memory-limit", type=memory_size, metavar="SIZE",
                        help="address-space limit per kernel (RLIMIT_AS), e.g. 4G (default: none)")
    parser.add_argument("--db-url", metavar="URL",
                        help="gradebook database (default: nbgrader's CourseDirectory.db_url)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="use this Dask scheduler, e.g. tcp://host:8786, instead of a local cluster")


def run(args: argparse.Namespace) -> int:
    options = BatchOptions(root=args.course, assignment=args.assignment, workers=args.workers,
                           students=args.students, force=args.force, timeout=args.timeout or None,
                           memory_limit=args.memory_limit, db_url=args.db_url, scheduler=args.scheduler)
    try:
        report = grade_assignment(options)
    except EnvironmentBroken as exc:
        print(f"nn-autograder grade: {exc}", file=sys.stderr)
        return ENVIRONMENT_BROKEN
    except BulkInputError as exc:
        print(f"nn-autograder grade: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("nn-autograder grade: interrupted", file=sys.stderr)
        return 130
    print(summary(report))
    return report.exit_code
