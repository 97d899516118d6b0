"""Student feedback pages written by real ``nbgrader generate_feedback`` for the graded corpus.

The pages must show each check's points and, for a lost check, the message and hint the
catalogue gives for the verdict; and nothing of the tests or the grader: no test code (hidden
or visible), no verdict data, no grader module names, no traceback.
"""

from __future__ import annotations

import pkgutil
import re
from collections.abc import Mapping
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import nbgrader
import pytest
from nbformat.v4 import new_output

import autograder
from autograder import course, messages
from autograder.feedback.outcomes import NO_RESULT, CheckOutcome
from autograder.feedback.student import readable_error
from autograder.spec import ASSIGNMENT, CHECK_POINTS, NOTEBOOK
from autograder.verdict import VERDICT_MIME, Verdict

# Strings that would reveal test code or grader internals, anywhere in a page's HTML.
FORBIDDEN = (
    "hidden=True", "verify(", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "import verify",
    "autograder",  # covers `autograder.`, `from autograder...` and every qualified module name
    VERDICT_MIME, "CheckFailed", "Mistake(", "most recent call last", 'File "', "mistake_id", "check_id",
    *(f"{m.name}.py" for m in pkgutil.iter_modules(autograder.__path__)),
)


class _Text(HTMLParser):
    """Collects the text a reader sees: no tags, no <style> or <script> contents."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self._skip += tag in ("style", "script")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("style", "script")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def page_text(html: str) -> str:
    """The visible text of ``html`` with all whitespace removed, for robust substring checks."""
    parser = _Text()
    parser.feed(html)
    return squash("".join(parser.parts))


def squash(text: str) -> str:
    """``text`` as it reads on a page: backtick code spans become plain text, no whitespace."""
    return re.sub(r"\s+", "", text.replace("`", ""))


def expected_mistake(result: course.CellResult) -> str:
    """The mistake id a lost check must be reported with: its failed verdict's, else "no result"."""
    failed = result.verdict is not None and not result.verdict.passed
    return result.verdict.mistake_id if failed else NO_RESULT


def expected_advice(result: course.CellResult, lang: str) -> tuple[str, str]:
    """``(problem, hint)`` straight from the catalogue for a lost check."""
    mistake = expected_mistake(result)
    if mistake == NO_RESULT:
        return messages.text("feedback.no_result", lang), messages.text("feedback.no_result_hint", lang)
    return messages.mistake_text(mistake, lang, **result.verdict.fields)


def expected_total(results: Mapping[str, course.CellResult], lang: str) -> str:
    """The page's total line for ``results``, as it reads on the page (see :func:`squash`)."""
    return squash(messages.text("feedback.total", lang, score=f"{sum(r.score for r in results.values()):g}",
                                max_score=f"{sum(CHECK_POINTS.values()):g}"))


def generate_feedback(root: Path, out: Path, *extra: str) -> Path:
    """Run ``nbgrader generate_feedback`` in ``root``, writing the pages under ``out``."""
    course.run_nbgrader(root, "generate_feedback", ASSIGNMENT, "--force",
                        f"--CourseDirectory.feedback_directory={out}", *extra)
    return out


def page(folder: Path, student: str) -> str:
    return (folder / student / ASSIGNMENT / NOTEBOOK.replace(".ipynb", ".html")).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def feedback(graded_class, tmp_path_factory) -> Path:
    """Feedback pages of every corpus submission, in Japanese (the session's language)."""
    return generate_feedback(graded_class.root, tmp_path_factory.mktemp("feedback"))


def test_every_graded_student_gets_a_page(feedback, graded_class):
    assert sorted(p.name for p in feedback.iterdir()) == sorted(graded_class.results)


def leaks(html: str) -> list[str]:
    """The forbidden strings in ``html``'s source or in its visible text.

    Both are needed: highlighted code splits ``verify(`` into separate spans, and style sheets
    name CSS classes such as pygments' "Generic.Traceback", which no reader sees.
    """
    text = page_text(html)
    return [s for s in FORBIDDEN if s in html or squash(s) in text] + ["Traceback"] * ("Traceback" in text)


def test_no_page_shows_test_code_or_grader_internals(feedback):
    found = {f.parent.parent.name: leaks(f.read_text(encoding="utf-8")) for f in feedback.rglob("*.html")}
    assert {student: strings for student, strings in found.items() if strings} == {}


def test_nbgraders_plain_feedback_would_fail_the_leak_check(graded_class, tmp_path):
    """Control: without the course's feedback preprocessor, the same page leaks the hidden tests."""
    student = next(iter(graded_class.results))
    nbgrader_templates = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader" / "templates"
    out = generate_feedback(graded_class.root, tmp_path, "--student", student,
                            '--GenerateFeedback.preprocessors=["nbgrader.preprocessors.GetGrades"]',
                            "--GenerateFeedback.HTMLExporter.template_name=feedback",
                            f"--GenerateFeedback.HTMLExporter.extra_template_basedirs={nbgrader_templates}")
    assert {"BEGIN HIDDEN TESTS", "hidden=True", "verify(", "autograder"} <= set(leaks(page(out, student)))


def test_page_shows_points_of_every_check_and_the_total(feedback, graded_class):
    for student, results in graded_class.results.items():
        text = page_text(page(feedback, student))
        assert expected_total(results, "ja") in text
        for check_id, result in results.items():
            status = "feedback.passed" if result.score == result.max_score else "feedback.failed"
            row = (messages.title(check_id, "ja")
                   + messages.text("feedback.points", "ja", score=f"{result.score:g}", max_score=f"{result.max_score:g}")
                   + messages.text(status, "ja"))
            assert squash(row) in text, (student, check_id)


def test_failed_checks_show_the_catalogue_message_and_hint(feedback, graded_class):
    for student, results in graded_class.results.items():
        text = page_text(page(feedback, student))
        for check_id, result in results.items():
            if result.score == result.max_score:
                continue
            problem, hint = expected_advice(result, "ja")
            assert squash(problem) in text, (student, check_id)
            assert squash(messages.text("check.hint", "ja", hint=hint)) in text, (student, check_id)


def _students_by_lost_checks(graded_class) -> list[str]:
    """Students from full marks to the most checks lost."""
    return sorted(graded_class.results, key=lambda s: sum(
        r.score < r.max_score for r in graded_class.results[s].values()))


def test_full_marks_page_says_so_and_lists_nothing_to_fix(feedback, graded_class):
    best = _students_by_lost_checks(graded_class)[0]
    assert all(r.score == r.max_score for r in graded_class.results[best].values())
    text = page_text(page(feedback, best))
    assert squash(messages.text("feedback.all_passed", "ja")) in text
    assert squash(messages.text("feedback.failed", "ja")) not in text
    assert squash(messages.text("check.hint", "ja", hint="")) not in text


def test_student_code_and_errors_are_kept_readable(feedback, graded_class):
    """The student's own cells stay; an error becomes line, name and message, without a stack."""
    shown = 0
    for student in graded_class.results:
        nb = nbformat.read(graded_class.root / "autograded" / student / ASSIGNMENT / NOTEBOOK, as_version=4)
        text = page_text(page(feedback, student))
        for cell in nb.cells:
            if not cell.metadata.get("nbgrader", {}).get("solution"):
                continue
            assert squash(cell.source) in text, (student, cell.metadata.nbgrader.grade_id)
            for output in cell.outputs:
                if output.output_type == "error":
                    reduced = readable_error(output, "ja")
                    assert squash("\n".join(reduced.traceback)) in text
                    shown += 1
    assert shown, "the graded class should contain a submission whose own code raises"


def test_page_language_follows_autograder_lang(graded_class, tmp_path, monkeypatch):
    worst = _students_by_lost_checks(graded_class)[-1]
    monkeypatch.setenv("AUTOGRADER_LANG", "en")
    out = generate_feedback(graded_class.root, tmp_path / "feedback", "--student", worst)
    html = page(out, worst)
    text = page_text(html)
    assert '<html lang="en">' in html
    results = graded_class.results[worst]
    assert expected_total(results, "en") in text
    for result in results.values():
        if result.score < result.max_score:
            problem, hint = expected_advice(result, "en")
            assert squash(problem) in text and squash(hint) in text
    for key in ("feedback.to_fix", "feedback.notebook", "feedback.failed"):  # no Japanese labels left
        assert squash(messages.text(key, "ja")) not in text


# --- Units: the rules that do not need a graded course ---------------------------------------

def test_stack_dump_in_an_error_message_is_reduced_to_its_words():
    output = new_output(
        "error", ename="InvalidArgumentError",
        evalue=('Graph execution error:\n\nDetected at node x defined at (most recent call last):\n'
                '  File "/venv/keras/src/trainer.py", line 3, in fit\n\n'
                'Received a label value of 9 which is outside the valid range of [0, 1).\n'
                '\t [[{{node compile_loss/SparseSoftmaxCrossEntropyWithLogits}}]] [Op:__inference_1]'),
        traceback=["\x1b[31mInvalidArgumentError\x1b[39m   Traceback (most recent call last)",
                   "\x1b[36mCell\x1b[39m\x1b[36m \x1b[39m\x1b[32mIn[5]\x1b[39m\x1b[32m, line 6\x1b[39m"])
    reduced = readable_error(output, "ja")
    assert reduced.traceback == [
        "6 行目でエラーが起きました: InvalidArgumentError",
        "Graph execution error:",
        "Received a label value of 9 which is outside the valid range of [0, 1).",
    ]


def test_timeout_error_keeps_nbgraders_words():
    output = new_output("error", ename="CellTimeoutError", evalue="",
                        traceback=["\x1b[0;31mCellTimeoutError\x1b[0m: No reply from kernel before timeout"])
    assert readable_error(output, "en").traceback == [
        "An error occurred: CellTimeoutError", "No reply from kernel before timeout"]


def test_points_decide_and_the_verdict_explains():
    failed = Verdict("check_loss", False, "loss.not_compiled")
    passed = Verdict("check_loss", True)
    assert CheckOutcome("check_loss", 0, 2, failed).mistake_id == "loss.not_compiled"
    # No points but no failed verdict (timeout, crash, stderr): say so rather than guess.
    lost = CheckOutcome("check_loss", 0, 2, passed)
    assert lost.mistake_id == NO_RESULT
    assert lost.advice("ja") == (messages.text("feedback.no_result", "ja"),
                                 messages.text("feedback.no_result_hint", "ja"))
    assert CheckOutcome("check_loss", 0, 2, None).mistake_id == NO_RESULT
    # A TA's manual full marks win over a failed verdict.
    assert CheckOutcome("check_loss", 2, 2, failed).advice("ja") is None
