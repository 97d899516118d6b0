"""Command line: ``python -m autograder COMMAND`` (also installed as ``nn-autograder``).

Each command lives in its own module exposing ``add_arguments(parser)`` and ``run(args) -> int``,
so adding a command is one line in ``COMMANDS``. Only the chosen command's module is imported:
a student's ``check`` must run where the grader's packages (nbgrader, Dask) are not installed.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# command name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("autograder.demo", "generate the release and grade the bundled sample class offline"),
    "grade": ("autograder.bulk.cli", "grade every submission of an assignment in parallel on Dask; resumable"),
    "intake": ("autograder.intake", "file an LMS download (Moodle/Canvas zip of all submissions) into submitted/"),
    "report": ("autograder.feedback.report", "write the TA class report (one HTML file) of a graded course"),
    "export": ("autograder.feedback.exports", "write grades.csv, a per-check CSV and Gradescope results.json files"),
    "check": ("autograder.student_check", "students: run nn_basics.ipynb top to bottom as grading will and print the self-checks"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nn-autograder", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    parsers = {name: sub.add_parser(name, help=help_text, description=help_text)
               for name, (_, help_text) in COMMANDS.items()}
    argv = sys.argv[1:] if argv is None else argv
    chosen = next((arg for arg in argv if not arg.startswith("-")), None)
    module = None
    if chosen in COMMANDS:
        module = importlib.import_module(COMMANDS[chosen][0])
        module.add_arguments(parsers[chosen])
    args = parser.parse_args(argv)  # without a known command this prints the usage and exits
    assert module is not None
    return int(module.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
