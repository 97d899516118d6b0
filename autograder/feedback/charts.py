"""The class report's charts: drawn with matplotlib off-screen and embedded as base64 PNG.

The report is one self-contained HTML file, so each chart is a ``data:`` URI. Labels are in
the report's language; Japanese needs a CJK font, and matplotlib's default (DejaVu Sans) has
no kana or kanji. Debian's ``fonts-noto-cjk`` (installed by ``.ci/system-packages.sh``)
provides "Noto Sans CJK JP", which is put first in the font list for every chart.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import io
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
from matplotlib import font_manager, rc_context
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

CJK_FAMILY = "Noto Sans CJK JP"

_RC = {
    # Glyphs missing from the CJK font (none in practice) fall back to DejaVu Sans.
    "font.family": "sans-serif",
    "font.sans-serif": [CJK_FAMILY, "DejaVu Sans"],
    "axes.spines.top": False,
    "axes.spines.right": False,
}
_BAR = "#3b6ea8"


def _find_cjk_font() -> str | None:
    try:
        return font_manager.findfont(font_manager.FontProperties(family=CJK_FAMILY),
                                     fallback_to_default=False)
    except ValueError:
        return None


@functools.cache
def cjk_font_path() -> str | None:
    """The file matplotlib uses for :data:`CJK_FAMILY`, or ``None`` if it is not installed.

    matplotlib caches the list of system fonts once per user and never refreshes it, so a
    cache written before ``fonts-noto-cjk`` was installed does not know the font. In that case
    the Noto CJK files are registered with this process's font manager.
    """
    found = _find_cjk_font()
    if found is None:
        for file in font_manager.findSystemFonts():
            if Path(file).name.startswith("NotoSansCJK"):
                font_manager.fontManager.addfont(file)
        found = _find_cjk_font()
    return found


@contextlib.contextmanager
def _style() -> Iterator[None]:
    cjk_font_path()  # registers the font first if matplotlib's cache predates it
    with rc_context(_RC):
        yield


def _data_uri(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def score_histogram(scores: Sequence[float], max_score: float, *, title: str, xlabel: str,
                    ylabel: str) -> str:
    """Number of students per total score, one bar per point from 0 to full marks."""
    with _style():
        fig = Figure(figsize=(7, 3.6))
        ax = fig.add_subplot()
        edges = np.arange(-0.5, max_score + 1.0, 1.0)
        ax.hist(scores, bins=edges, color=_BAR, edgecolor="white")
        ax.set_xlim(edges[0], edges[-1])
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
        return _data_uri(fig)


def pass_rates(titles: Sequence[str], rates: Sequence[float], *, title: str, xlabel: str) -> str:
    """One horizontal bar per check (first check on top), labelled with its pass rate in %."""
    with _style():
        fig = Figure(figsize=(7, 0.45 * len(titles) + 1.2))
        ax = fig.add_subplot()
        percent = [100 * r for r in rates]
        positions = np.arange(len(titles))[::-1]
        ax.barh(positions, percent, color=_BAR)
        ax.set_yticks(positions, labels=list(titles))
        for y, value in zip(positions, percent):
            ax.annotate(f"{value:.0f}%", (value, y), xytext=(3, 0), textcoords="offset points",
                        va="center", fontsize=9)
        ax.set_xlim(0, 112)  # room for the label of a 100% bar
        ax.set_xticks(range(0, 101, 20))
        ax.xaxis.set_major_formatter(PercentFormatter())
        ax.set(title=title, xlabel=xlabel)
        return _data_uri(fig)
