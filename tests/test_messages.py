"""The message catalogue: complete in both languages, every placeholder fills, every id exists."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from autograder import messages
from autograder.spec import CHECK_POINTS
from autograder.verdict import Mistake, Verdict

PACKAGE = Path(messages.__file__).parent
# The modules whose mistakes this catalogue must cover (the checks and what they read).
CHECK_MODULES = ("checks.py", "context.py", "model_facts.py", "source_scan.py", "training_audit.py", "cells.py",
                 "verdict.py")
# Mistake-id prefixes raised by these modules; the reverse test checks that each is used.
CHECK_PREFIXES = ("architecture.", "loss.", "training.", "accuracy.", "probability.", "first_label.",
                  "argmax.", "accuracy_score.", "input.missing", "input.model_failed",
                  "input.test_data_changed", "input.student_error")


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _specs(template: str) -> dict[str, str]:
    return {name: spec for _, name, spec, _ in string.Formatter().parse(template) if name}


def _sample_fields(entry: messages.MistakeText) -> dict[str, object]:
    """A value for every placeholder: a cell name for ``*cell``, a number where a format needs one."""
    values: dict[str, object] = {}
    for template in [*entry.problem.values(), *entry.hint.values()]:
        for name, spec in _specs(template).items():
            if name.endswith("cell"):
                values[name] = "practice11"
            elif spec:
                values[name] = 0.8765
            else:
                values.setdefault(name, "X")
    return values


@pytest.mark.parametrize("mistake_id", sorted(messages.MISTAKES))
def test_every_mistake_has_problem_and_hint_in_both_languages(mistake_id):
    entry = messages.MISTAKES[mistake_id]
    for lang in messages.LANGUAGES:
        assert entry.problem[lang].strip(), (mistake_id, lang)
        assert entry.hint[lang].strip(), (mistake_id, lang)


@pytest.mark.parametrize("mistake_id", sorted(messages.MISTAKES))
def test_every_placeholder_formats_and_both_languages_use_the_same_fields(mistake_id):
    entry = messages.MISTAKES[mistake_id]
    used = {lang: _fields(entry.problem[lang]) | _fields(entry.hint[lang]) for lang in messages.LANGUAGES}
    assert used["ja"] == used["en"], mistake_id
    fields = _sample_fields(entry)
    for lang in messages.LANGUAGES:
        problem, hint = messages.mistake_text(mistake_id, lang, **fields)
        for text in (problem, hint):
            assert "{" not in text.replace("{{", "") and "}" not in text.replace("}}", ""), text
            assert "practice11" not in text  # cell names are translated


def test_cell_fields_are_translated():
    problem, hint = messages.mistake_text("input.missing_upstream", "ja", name="y_predict", cell="practice12",
                                          upstream="probability", upstream_cell="practice11")
    assert "練習11" in problem and "練習12" in problem and "練習11" in hint
    problem, _ = messages.mistake_text("input.missing_upstream", "en", name="y_predict", cell="practice12",
                                       upstream="probability", upstream_cell="practice11")
    assert "Practice 11" in problem and "Practice 12" in problem


def test_titles_texts_and_notes_exist_in_both_languages():
    assert set(messages.TITLES) == set(CHECK_POINTS)
    for table in (messages.TITLES, messages.TEXTS, messages.NOTES):
        for key, entry in table.items():
            for lang in messages.LANGUAGES:
                assert entry[lang].strip(), (key, lang)


MISTAKE_ID = re.compile(r"^[a-z_]+\.[a-z0-9_]+$")


def _raised_ids() -> set[str]:
    """Every mistake id the check modules can raise: id-like literals inside ``Mistake(...)``
    and ``Verdict(...)`` calls, and the ids ``source_scan`` hands to checks to raise."""
    ids: set[str] = set()
    for module in CHECK_MODULES:
        tree = ast.parse((PACKAGE / module).read_text(encoding="utf-8"))
        roots = [tree] if module == "source_scan.py" else [
            n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", None) in {"Mistake", "Verdict"}]
        for root in roots:
            for sub in ast.walk(root):
                if isinstance(sub, ast.Constant) and isinstance(sub.value, str) and MISTAKE_ID.match(sub.value):
                    ids.add(sub.value)
    return ids


def test_every_raised_mistake_id_is_in_the_catalogue():
    raised = _raised_ids()
    assert len(raised) > 30  # the scan itself works
    missing = sorted(raised - set(messages.MISTAKES))
    assert not missing, missing


def test_every_check_mistake_in_the_catalogue_is_raised_somewhere():
    raised = _raised_ids()
    unused = sorted(m for m in messages.MISTAKES if m.startswith(CHECK_PREFIXES) and m not in raised)
    assert not unused, unused


def test_unknown_mistake_id_is_refused():
    with pytest.raises(KeyError):
        Mistake("no.such_mistake")


def test_default_language_is_japanese(monkeypatch):
    monkeypatch.delenv(messages.LANG_ENV, raising=False)
    assert messages.current_language() == "ja"
    monkeypatch.setenv(messages.LANG_ENV, "fr")
    assert messages.current_language() == "ja"


def test_english_is_selectable_by_environment(monkeypatch):
    verdict = Verdict("check_argmax_axis", False, "argmax.axis0")
    monkeypatch.setenv(messages.LANG_ENV, "en")
    assert messages.current_language() == "en"
    lines = verdict.lines()
    assert lines[0].startswith("✘ Predicted labels for all images (Practice 12): argmax with `axis=0`")
    assert lines[1].startswith("Hint: ")
    monkeypatch.setenv(messages.LANG_ENV, "EN_us")  # a locale-like value works too
    assert verdict.lines() == lines
    monkeypatch.setenv(messages.LANG_ENV, "ja")
    assert verdict.lines()[1].startswith("ヒント: ")


def test_verdict_renders_the_same_after_a_json_round_trip():
    mistake = Mistake("probability.wrong_shape", shape=(4000, 10), expected=(1000, 10))
    verdict = Verdict("check_probability", False, mistake.mistake_id, mistake.fields)
    again = Verdict.from_json(verdict.to_json(hidden=True))
    assert again.lines() == verdict.lines()
    assert "(4000, 10)" in verdict.lines("en")[0]


def test_passing_verdict_lines_show_notes():
    verdict = Verdict("check_loss", True, notes=("loss.softmax_equivalent",))
    lines = verdict.lines("en")
    assert lines[0] == "✔ Loss configuration (Practice 10): passed."
    assert lines[1].startswith("Note: A softmax output")
    assert verdict.lines("en", self_check=True)[0].startswith("✔ Loss configuration (Practice 10): self-check passed")


# --- Causes: the crash of a student's cell, a recognisable change of the test data ---------------

def _cause_fields(cause: str) -> dict[str, object]:
    entry = messages.CAUSES[cause]
    values = {"crash_cell": "practice12", "crash_type": "ValueError", "crash_error": "bad {value} here"}
    for template in [*entry.problem.values(), *entry.hint.values()]:
        for name in _fields(template):
            values.setdefault(name, "X")
    return {**values, "cause": cause}


@pytest.mark.parametrize("cause", sorted(messages.CAUSES))
def test_every_cause_renders_in_both_languages_after_the_mistake(cause):
    from autograder import crashes

    entry = messages.CAUSES[cause]
    used = {lang: _fields(entry.problem[lang]) | _fields(entry.hint[lang]) for lang in messages.LANGUAGES}
    assert used["ja"] == used["en"], cause
    explained = sorted(crashes.EXPLAINED) if cause.startswith("crash.") else ["input.test_data_changed"]
    for mistake_id in explained:
        fields = {**_sample_fields(messages.MISTAKES[mistake_id]), **_cause_fields(cause)}
        for lang in messages.LANGUAGES:
            plain_problem, _ = messages.mistake_text(mistake_id, lang, **{k: v for k, v in fields.items() if k != "cause"})
            problem, hint = messages.mistake_text(mistake_id, lang, **fields)
            assert plain_problem in problem, (cause, mistake_id, lang)  # the mistake is still said
            assert hint == entry.hint[lang].format(**fields) and hint.strip()
            assert "practice1" not in problem + hint
            if cause.startswith("crash."):  # the student's exception, verbatim, braces and all
                assert "ValueError" in problem and "bad {value} here" in problem


def test_every_crash_cause_of_the_catalogue_has_its_text():
    from autograder import crashes

    causes = {cause for cause, _, _ in crashes.PATTERNS} | {crashes.FALLBACK_CAUSE}
    assert causes == {c for c in messages.CAUSES if c.startswith("crash.")}
    for mistake_id in crashes.EXPLAINED:
        assert mistake_id in messages.MISTAKES


def test_an_unknown_cause_leaves_the_mistake_text_alone():
    plain = messages.mistake_text("input.missing", "ja", name="model", cell="practice10")
    assert messages.mistake_text("input.missing", "ja", name="model", cell="practice10", cause="crash.from_the_future") == plain


def test_the_self_check_of_accuracy_never_shows_the_pass_mark():
    for lang in messages.LANGUAGES:
        problem, hint = messages.mistake_text("accuracy.far_below", lang, accuracy=0.341, typical=0.888)
        assert "0.341" in problem and "0.89" in problem and "0.87" not in problem + hint
        assert hint == messages.mistake_text("accuracy.below_threshold", lang, accuracy=0.341, threshold=0.87)[1]
