"""Small formatting helpers shared by the feedback page, the report and the exports."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

_CODE_SPAN = re.compile(r"`([^`]+)`")


def rich(text: str) -> Markup:
    """``text`` as safe HTML, with the catalogue's `backtick` spans shown as code.

    Messages embed values taken from the student's objects and errors, so everything is
    escaped first; only the backtick spans are turned into ``<code>``.
    """
    return Markup(_CODE_SPAN.sub(r"<code>\1</code>", str(escape(text))))


def number(value: float) -> str:
    """A score as people write it: ``11`` rather than ``11.0``, ``1.5`` stays ``1.5``."""
    return f"{value:g}"
