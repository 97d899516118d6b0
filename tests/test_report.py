"""The TA class report of the graded corpus, checked against the gradebook and the verdicts."""

from __future__ import annotations

import argparse
import base64
import io
import os
import re
import shutil
import statistics
import subprocess
import sys
import warnings
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import pytest
from matplotlib import rc_context
from matplotlib.figure import Figure
from PIL import Image, ImageStat

from autograder import course, messages
from autograder.feedback import charts, report
from autograder.feedback.outcomes import (
    NO_RESULT, CheckOutcome, ClassOutcomes, CourseSettings, StudentOutcome, course_settings,
)
from autograder.feedback.report import build_context, render, write_report
from autograder.spec import ASSIGNMENT, CHECK_POINTS, NOTEBOOK
from autograder.verdict import Verdict

from test_feedback import expected_advice, expected_mistake, page_text, squash

FULL = sum(CHECK_POINTS.values())


@pytest.fixture(scope="module")
def report_html(graded_class, tmp_path_factory) -> str:
    path = write_report(graded_class.root, tmp_path_factory.mktemp("report") / "class_report.html")
    return path.read_text(encoding="utf-8")


def _totals(graded_class) -> dict[str, float]:
    return {s: sum(r.score for r in results.values()) for s, results in graded_class.results.items()}


def _table(html: str, section: str) -> list[list[str]]:
    """Rows of the first table in ``<section id=section>``, as cell texts without whitespace."""
    body = re.search(rf'<section id="{section}">(.*?)</section>', html, re.S)[1]
    return [[page_text(cell) for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


def _mistake_rows(html: str) -> list[tuple[str, str]]:
    """(mistake id, row html) of the common-mistakes table, top to bottom."""
    return re.findall(r'<tr class="mistake" data-mistake="([^"]+)">(.*?)</tr>', html, re.S)


def test_summary_statistics_match_the_gradebook(report_html, graded_class):
    scores = list(_totals(graded_class).values())
    stats = dict(_table(report_html, "summary"))

    def label(key: str) -> str:
        return squash(messages.text(key, "ja"))

    assert stats[label("report.stat.submitted")] == str(len(scores))
    assert stats[label("report.stat.graded")] == str(len(scores))
    assert stats[label("report.stat.ungraded")] == "0"
    errors = sum(any(r.score < r.max_score and (expected_mistake(r) == NO_RESULT
                                                 or expected_mistake(r).startswith("verification."))
                     for r in results.values()) for results in graded_class.results.values())
    assert stats[label("report.stat.errors")] == str(errors)
    assert stats[label("report.stat.mean")] == f"{statistics.fmean(scores):.2f}/{FULL}"
    assert stats[label("report.stat.median")] == f"{statistics.median(scores):.2f}/{FULL}"
    assert stats[label("report.stat.stdev")] == f"{statistics.pstdev(scores):.2f}"
    assert stats[label("report.stat.min")] == f"{min(scores):.2f}/{FULL}"
    assert stats[label("report.stat.max")] == f"{max(scores):.2f}/{FULL}"
    assert stats[label("report.stat.full_marks")] == str(scores.count(FULL))


def test_pass_rate_of_every_check(report_html, graded_class):
    rows = _table(report_html, "pass-rates")[1:]  # after the header
    assert [r[0] for r in rows] == [squash(messages.title(c, "ja")) for c in CHECK_POINTS]
    n = len(graded_class.results)
    for (title, points, passed, rate), (check_id, full) in zip(rows, CHECK_POINTS.items()):
        count = sum(r[check_id].score == r[check_id].max_score for r in graded_class.results.values())
        assert (points, passed, rate) == (str(full), f"{count}/{n}", f"{100 * count / n:.0f}%")


def test_mistakes_are_ranked_by_number_of_students_with_messages_and_names(report_html, graded_class):
    expected: dict[str, set[str]] = defaultdict(set)
    for student, results in graded_class.results.items():
        for r in results.values():
            if r.score < r.max_score:
                expected[expected_mistake(r)].add(student)
    rows = _mistake_rows(report_html)
    assert [m for m, _ in rows] == sorted(expected, key=lambda m: (-len(expected[m]), m))
    ranks = []
    for mistake, row in rows:
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ranks.append(int(page_text(cells[0])))
        assert page_text(cells[2]) == str(len(expected[mistake]))
        named = {s.strip() for who in re.findall(r'<span class="who">[^:]*:([^<]*)</span>', row)
                 for s in who.split(",")}
        assert named == expected[mistake], mistake
        text = page_text(row)
        for student in expected[mistake]:  # each student's own wording is shown
            for r in graded_class.results[student].values():
                if r.score < r.max_score and expected_mistake(r) == mistake:
                    assert squash(expected_advice(r, "ja")[0]) in text
    counts = [len(expected[m]) for m, _ in rows]
    assert ranks == [1 + sum(c > mine for c in counts) for mine in counts]


def test_charts_are_embedded_non_blank_png(report_html):
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', report_html)
    assert len(images) == 2  # score histogram, pass rates
    for data in images:
        image = Image.open(io.BytesIO(base64.b64decode(data)))
        assert image.format == "PNG" and image.width > 300 and image.height > 200
        assert ImageStat.Stat(image.convert("L")).stddev[0] > 10  # drawn on, not a blank canvas


def test_japanese_font_is_installed_and_covers_the_labels():
    path = charts.cjk_font_path()
    assert path is not None and "NotoSansCJK" in Path(path).name
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph ... missing from font(s)"
        charts.pass_rates([messages.title(c, "ja") for c in CHECK_POINTS], [0.5] * len(CHECK_POINTS),
                          title=messages.text("report.pass_rates", "ja"), xlabel="合格率")


def test_font_is_found_even_when_matplotlibs_font_cache_predates_it(tmp_path):
    """matplotlib never refreshes its font list; one written before fonts-noto-cjk lacks the font."""
    env = {**course.grading_env(), "MPLCONFIGDIR": str(tmp_path)}
    write_stale_cache = (
        "import matplotlib\n"
        "from pathlib import Path\n"
        "from matplotlib import font_manager as fm\n"
        "fm.fontManager.ttflist = [f for f in fm.fontManager.ttflist if 'CJK' not in f.name]\n"
        "fm.json_dump(fm.fontManager, Path(matplotlib.get_cachedir()) / f'fontlist-v{fm.FontManager.__version__}.json')\n")
    find_font = (
        "from matplotlib import font_manager as fm\n"
        "assert not any('CJK' in f.name for f in fm.fontManager.ttflist), 'the cache is not stale'\n"
        "from autograder.feedback import charts\n"
        "print(charts.cjk_font_path())\n")
    for script in (write_stale_cache, find_font):
        proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == charts.cjk_font_path()


def test_default_font_alone_would_miss_the_glyphs():
    """Control for the test above: without the CJK font, Japanese text does warn."""
    with rc_context({"font.family": "sans-serif", "font.sans-serif": ["DejaVu Sans"]}):
        fig = Figure()
        fig.text(0.5, 0.5, "合格率")
        with pytest.warns(UserWarning, match="missing from font"):
            fig.savefig(io.BytesIO(), format="png")


def test_submissions_that_could_not_be_graded_are_listed(graded_class, tmp_path):
    root = tmp_path / "course"
    shutil.copytree(graded_class.root, root, ignore=shutil.ignore_patterns("feedback"))
    release = course.release_notebook(root)
    course.submit(root, "zz_never_graded", release)  # nbgrader autograde removes output on failure
    corrupt = root / "autograded" / "zz_corrupt" / ASSIGNMENT / NOTEBOOK
    course.submit(root, "zz_corrupt", release)
    corrupt.parent.mkdir(parents=True)
    corrupt.write_text("{ not a notebook", encoding="utf-8")

    html = write_report(root).read_text(encoding="utf-8")
    rows = {student: reason for student, reason in _table(html, "ungraded")[1:]}
    assert rows["zz_never_graded"] == squash(messages.text("report.ungraded.missing", "ja"))
    assert rows["zz_corrupt"].startswith(squash(messages.text("report.ungraded.unreadable", "ja", error="")))
    stats = dict(_table(html, "summary"))
    assert stats[squash(messages.text("report.stat.ungraded", "ja"))] == "2"
    assert stats[squash(messages.text("report.stat.submitted", "ja"))] == str(len(graded_class.results) + 2)


def test_checks_that_failed_to_grade_are_listed_as_grading_errors():
    checks = [CheckOutcome(c, p, p, Verdict(c, True)) for c, p in CHECK_POINTS.items()]
    timeout, stopped = checks[2].check_id, checks[5].check_id
    checks[2] = CheckOutcome(timeout, 0, checks[2].max_score, None)  # e.g. the cell timed out
    checks[5] = CheckOutcome(stopped, 0, checks[5].max_score, Verdict(stopped, False, "verification.notebook_stopped"))
    outcomes = ClassOutcomes([StudentOutcome("s_errors", tuple(checks))], [])
    html = render(build_context(CourseSettings(Path("/course"), "sqlite://", "ja"), outcomes, datetime(2025, 1, 1)))
    reason = messages.text("report.grading_errors", "ja",
                           checks=f"{messages.title(timeout, 'ja')}, {messages.title(stopped, 'ja')}",
                           problem=messages.text("feedback.no_result", "ja"))
    assert _table(html, "ungraded")[1:] == [["s_errors", squash(reason)]]
    assert dict(_table(html, "summary"))[squash(messages.text("report.stat.errors", "ja"))] == "1"
    rows = dict(_mistake_rows(html))
    assert set(rows) == {NO_RESULT, "verification.notebook_stopped"}
    assert squash(messages.text("feedback.no_result", "ja")) in page_text(rows[NO_RESULT])


def test_report_language_follows_autograder_lang(graded_class, tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOGRADER_LANG", "en")
    html = write_report(graded_class.root, tmp_path / "en.html").read_text(encoding="utf-8")
    text = page_text(html)
    assert '<html lang="en">' in html
    for key in ("report.summary", "report.pass_rates", "report.mistakes"):
        assert squash(messages.text(key, "en")) in text
    assert squash(messages.title("check_architecture", "en")) in text
    assert not re.search(r"[\u3040-\u30ff]", text)  # no kana anywhere


def test_course_language_comes_from_the_config_when_the_environment_is_silent(tmp_path, monkeypatch):
    config = (course.REPO_ROOT / "nbgrader_config.py").read_text(encoding="utf-8")
    assert 'LANGUAGE = "ja"' in config
    (tmp_path / "nbgrader_config.py").write_text(config.replace('LANGUAGE = "ja"', 'LANGUAGE = "en"'))
    monkeypatch.delenv("AUTOGRADER_LANG")
    settings = course_settings(tmp_path)
    assert settings.language == "en"
    assert settings.db_url == f"sqlite:///{tmp_path / 'gradebook.db'}"
    assert "AUTOGRADER_LANG" not in os.environ  # loading the config left no trace


def test_report_command(graded_class, tmp_path):
    out = tmp_path / "nested" / "report.html"
    proc = subprocess.run([sys.executable, "-m", "autograder", "report", "--course", str(graded_class.root),
                           "--output", str(out)], capture_output=True, text=True, timeout=300,
                          env=course.grading_env())
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"Class report: {out}"
    assert squash(messages.text("report.title", "ja", assignment=ASSIGNMENT)) in page_text(out.read_text(encoding="utf-8"))


def test_report_command_refuses_a_folder_without_gradebook(tmp_path, capsys):
    assert report.run(argparse.Namespace(course=tmp_path, output=None)) == 1
    assert "no gradebook" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []  # and it did not create an empty one
