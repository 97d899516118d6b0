"""A real browser opens one feedback page and the class report.

Headless Chromium (Debian's ``chromium``, installed by ``.ci/system-packages.sh``) loads each
page from disk, dumps the DOM it built and takes a screenshot. The DOM must hold the expected
text and images; the screenshot must show the page was painted: not blank, with the failed
checks' boxes and the charts' bars in their colours. Screenshots are kept in ``tests/artifacts/``
(or ``$ARTIFACTS_DIR``) for people to look at.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageStat

from autograder import messages
from autograder.feedback.report import write_report
from autograder.spec import ASSIGNMENT

from test_feedback import expected_advice, expected_total, generate_feedback, page_text, squash

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("ARTIFACTS_DIR") or Path(__file__).parent / "artifacts")
FAILED_BOX = (0xFD, 0xF0, 0xF1)  # background of a failed check (templates/nn_feedback)
CHART_BAR = (0x3B, 0x6E, 0xA8)  # bar colour of both charts (autograder/feedback/charts.py)

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason="chromium is not installed (run .ci/system-packages.sh)")


def chromium(page: Path, profile: Path, *args: str) -> str:
    """Run headless Chromium on ``page`` with ``args``; return what it printed on stdout."""
    proc = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
         "--hide-scrollbars", *args, page.as_uri()],
        capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def screenshot(page: Path, profile: Path, name: str, height: int) -> Image.Image:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    path.unlink(missing_ok=True)
    chromium(page, profile, f"--window-size=1280,{height}", f"--screenshot={path}")
    image = Image.open(path).convert("RGB")
    assert image.size == (1280, height)
    return image


def pixels_of(image: Image.Image, colour: tuple[int, int, int]) -> int:
    return sum(count for count, rgb in image.getcolors(image.width * image.height) if rgb == colour)


@pytest.fixture(scope="module")
def student(graded_class) -> str:
    """A student who passed some checks and failed others, so the page shows both."""
    mixed = [s for s, results in graded_class.results.items()
             if 0 < sum(r.score < r.max_score for r in results.values()) < len(results)]
    return sorted(mixed)[0]


def test_feedback_page_in_chromium(graded_class, student, tmp_path):
    folder = generate_feedback(graded_class.root, tmp_path / "feedback", "--student", student)
    page = folder / student / ASSIGNMENT / f"{ASSIGNMENT}.html"
    dom = chromium(page, tmp_path / "profile", "--dump-dom")
    text = page_text(dom)
    results = graded_class.results[student]
    assert expected_total(results, "ja") in text
    for result in results.values():
        if result.score < result.max_score:
            assert squash(expected_advice(result, "ja")[0]) in text
    assert "HIDDEN" not in dom and "verify(" not in dom

    image = screenshot(page, tmp_path / "profile", f"feedback_{student}.png", 1600)
    assert ImageStat.Stat(image.convert("L")).stddev[0] > 15
    assert pixels_of(image, FAILED_BOX) > 5000  # the boxes of the failed checks were painted


def test_class_report_in_chromium(graded_class, tmp_path):
    page = write_report(graded_class.root, tmp_path / "class_report.html")
    dom = chromium(page, tmp_path / "profile", "--dump-dom")
    assert squash(messages.text("report.title", "ja", assignment=ASSIGNMENT)) in page_text(dom)
    assert len(re.findall(r'<img[^>]+src="data:image/png;base64,', dom)) == 2
    assert squash(messages.text("report.mistakes", "ja")) in page_text(dom)

    image = screenshot(page, tmp_path / "profile", "class_report.png", 2400)
    assert ImageStat.Stat(image.convert("L")).stddev[0] > 15
    assert pixels_of(image, CHART_BAR) > 10000  # both embedded charts were decoded and drawn
