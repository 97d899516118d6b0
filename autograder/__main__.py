"""Command line: ``python -m autograder COMMAND`` (also installed as ``nn-autograder``).

Each command lives in its own module exposing ``add_arguments(parser)`` and ``run(args) -> int``,
so adding a command is one line in ``COMMANDS``.
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
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nn-autograder", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    modules = {}
    for name, (module_name, help_text) in COMMANDS.items():
        module = modules[name] = importlib.import_module(module_name)
        module.add_arguments(sub.add_parser(name, help=help_text, description=help_text))
    args = parser.parse_args(argv)
    return int(modules[args.command].run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
