"""The machine-readable verdict in a check cell's outputs shows nothing, in any front end.

Every check cell publishes its verdict as a display output (``autograder.verdict``). Front ends
pick one type of each output's bundle to render, each by its own ranking:

* JupyterLab and Notebook 7 (one rendermime registry): the first of their renderers' types the
  bundle holds; a type no renderer claims is never picked.
* nbconvert (HTML, Markdown, PDF exports, nbgrader's feedback): the first type of the exporter's
  ``display_data_priority`` that the bundle holds.
* VS Code: the Jupyter extension sorts the types with every ``application/vnd.*`` first
  (``orderOfMimeTypes`` in vscode-jupyter ``src/kernels/execution/helpers.ts``), then the editor
  renders the first type that has a renderer, and shows "No renderer could be found" when none
  has (``resolveMimeTypes`` in VS Code's ``cellOutputViewModel``).
* Colab renders the types it supports, ``text/plain`` among them.

A bundle of the custom type alone is an error box in VS Code. With an empty ``text/plain`` next
to it, every one of these rankings lands on that empty text. These tests check the bundle
against each ranking, export real kernel outputs with nbconvert, and compare screenshots of
JupyterLab's HTML rendering with and without the verdict output: they must be identical.
"""

from __future__ import annotations

import shutil
import subprocess
import warnings
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbconvert.exporters import HTMLExporter, MarkdownExporter
from nbformat.v4 import new_code_cell, new_notebook

from autograder import course
from autograder.verdict import VERDICT_MIME, Verdict, output_verdict, verdict_bundle

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

# JupyterLab's standard renderers in rank order (@jupyterlab/rendermime standardRendererFactories
# plus the JSON, PDF and Vega extensions shipped with it); none claims the verdict's type.
JUPYTERLAB_TYPES = ("text/html", "text/markdown", "text/latex", "image/bmp", "image/png", "image/jpeg",
                    "image/gif", "image/webp", "image/svg+xml", "application/javascript", "application/json",
                    "application/pdf", "application/vnd.vega.v5+json", "application/vnd.vegalite.v5+json",
                    "text/plain", "application/vnd.jupyter.stdout", "application/vnd.jupyter.stderr")
# vscode-jupyter's sort order; "application/vnd.*" matches any vendor type.
VSCODE_ORDER = ("application/vnd.*", "application/vdom.*", "application/geo+json",
                "application/x-nteract-model-debug+json", "text/html", "application/javascript", "image/gif",
                "text/latex", "text/markdown", "image/png", "image/svg+xml", "image/jpeg", "application/json",
                "text/plain")
# Types VS Code itself (with the Jupyter extension's renderers) can render.
VSCODE_RENDERABLE = ("text/html", "application/javascript", "image/gif", "text/latex", "text/markdown",
                     "image/png", "image/svg+xml", "image/jpeg", "application/json", "text/plain")
COLAB_TYPES = ("text/html", "image/png", "image/jpeg", "image/svg+xml", "text/markdown", "text/latex",
               "application/javascript", "application/json", "text/plain")


def jupyterlab_pick(bundle: dict) -> str | None:
    return next((t for t in JUPYTERLAB_TYPES if t in bundle), None)


def vscode_pick(bundle: dict) -> str:
    def rank(mime: str) -> int:
        for i, pattern in enumerate(VSCODE_ORDER):
            if mime.startswith(pattern[:-2] if pattern.endswith(".*") else pattern):
                return i
        return 100
    ordered = sorted(bundle, key=rank)
    # VS Code renders the first type with a renderer, else the first type as an error.
    return next((t for t in ordered if t in VSCODE_RENDERABLE), ordered[0])


def nbconvert_pick(bundle: dict, exporter) -> str | None:
    priority = exporter.default_config["NbConvertBase"]["display_data_priority"]
    return next((t for t in priority if t in bundle), None)


def colab_pick(bundle: dict) -> str | None:
    return next((t for t in COLAB_TYPES if t in bundle), None)


BUNDLE = verdict_bundle(Verdict("check_loss", False, "loss.logits_need_from_logits").to_json(hidden=False))


@pytest.mark.parametrize("front_end", ["jupyterlab", "vscode", "colab", "nbconvert-html", "nbconvert-markdown"])
def test_every_front_end_renders_the_verdict_as_empty_text(front_end):
    pick = {"jupyterlab": jupyterlab_pick, "vscode": vscode_pick, "colab": colab_pick,
            "nbconvert-html": lambda b: nbconvert_pick(b, HTMLExporter()),
            "nbconvert-markdown": lambda b: nbconvert_pick(b, MarkdownExporter())}[front_end]
    chosen = pick(BUNDLE)
    assert chosen == "text/plain"
    assert BUNDLE[chosen] == ""


def test_the_custom_type_alone_would_be_an_error_in_vscode():
    """Why the bundle carries the empty text: VS Code would pick the custom type and fail."""
    alone = {VERDICT_MIME: BUNDLE[VERDICT_MIME]}
    assert vscode_pick(alone) == VERDICT_MIME and VERDICT_MIME not in VSCODE_RENDERABLE


def test_readers_find_the_verdict_and_skip_forgeries():
    output = nbformat.v4.new_output("display_data", data=BUNDLE)
    assert output_verdict(output) == BUNDLE[VERDICT_MIME]
    assert output_verdict(nbformat.v4.new_output("execute_result", data=BUNDLE, execution_count=1)) is None
    forged = {"cell_type": "code", "outputs": [
        nbformat.v4.new_output("display_data", data={VERDICT_MIME: "not a verdict", "text/plain": ""}),
        nbformat.v4.new_output("display_data", data={VERDICT_MIME: {"passed": True}, "text/plain": ""}),
        output]}
    assert [v.mistake_id for v in course.cell_verdicts(forged)] == ["loss.logits_need_from_logits"]


# --- real outputs of a check cell, exported and rendered ----------------------------------

PASS_CELL = """from autograder.cells import _publish
from autograder.verdict import Verdict
verdict = Verdict("check_first_label", True)
_publish(verdict, False)
print("\\n".join(verdict.lines(self_check=True)))"""
FAIL_CELL = """from autograder.cells import verify
verify("check_first_label", {})"""


@pytest.fixture(scope="module")
def executed(tmp_path_factory) -> nbformat.NotebookNode:
    """A passing and a failing check cell, run in a real kernel (the pass is verify's own path)."""
    nb = new_notebook(cells=[new_code_cell(PASS_CELL), new_code_cell(FAIL_CELL)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    folder = tmp_path_factory.mktemp("verdict-output")
    NotebookClient(nb, timeout=300, allow_errors=True, resources={"metadata": {"path": str(folder)}}).execute(
        env=course.grading_env())
    return nb


def _without_verdicts(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    bare = nbformat.from_dict(nb)
    for cell in bare.cells:
        cell.outputs = [o for o in cell.outputs if output_verdict(o) is None]
    return bare


def test_kernel_outputs_carry_the_bundle(executed):
    for cell in executed.cells:
        verdicts = [o for o in cell.outputs if output_verdict(o) is not None]
        assert len(verdicts) == 1
        assert dict(verdicts[0].data) == {VERDICT_MIME: verdicts[0].data[VERDICT_MIME], "text/plain": ""}
    assert [v.passed for c in executed.cells for v in course.cell_verdicts(c)] == [True, False]


@pytest.mark.parametrize("exporter", [HTMLExporter(template_name="lab"), HTMLExporter(template_name="classic"),
                                      MarkdownExporter()], ids=["html-lab", "html-classic", "markdown"])
def test_exports_show_the_messages_and_nothing_of_the_verdict(executed, exporter):
    with warnings.catch_warnings():
        # nbconvert warns "not able to be represented" for a bundle of the custom type alone
        warnings.simplefilter("error")
        body, _ = exporter.from_notebook_node(executed)
    bare, _ = exporter.from_notebook_node(_without_verdicts(executed))
    assert "mistake_id" not in body and "nn-autograder" not in body
    verdicts = [v for c in executed.cells for v in course.cell_verdicts(c)]
    for verdict in verdicts:
        assert verdict.lines(self_check=True)[0] in body
    if isinstance(exporter, MarkdownExporter):
        # The verdict adds at most an empty code block, never text.
        assert [ln for ln in body.splitlines() if ln.strip("` ")] == [ln for ln in bare.splitlines() if ln.strip("` ")]


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed (run .ci/system-packages.sh)")
def test_jupyterlab_rendering_is_identical_without_the_verdict(executed, tmp_path):
    """Pixel for pixel: JupyterLab's own CSS (nbconvert's lab template) gives the output no size."""
    exporter = HTMLExporter(template_name="lab")
    shots = []
    for name, nb in (("with", executed), ("without", _without_verdicts(executed))):
        page = tmp_path / f"{name}.html"
        page.write_text(exporter.from_notebook_node(nb)[0], "utf-8")
        shot = tmp_path / f"{name}.png"
        proc = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}", "--hide-scrollbars",
             "--host-resolver-rules=MAP * ~NOTFOUND",  # the template's CDN scripts fail at once
             "--window-size=1000,700", f"--screenshot={shot}", page.as_uri()],
            capture_output=True, text=True, timeout=180)
        assert proc.returncode == 0, proc.stderr[-2000:]
        shots.append(shot.read_bytes())
    from PIL import Image, ImageChops

    with_img, without_img = (Image.open(tmp_path / f"{n}.png").convert("RGB") for n in ("with", "without"))
    assert ImageChops.difference(with_img, without_img).getbbox() is None
    assert len(with_img.getcolors(1 << 20)) > 2  # the page was painted (text, code, error box)
