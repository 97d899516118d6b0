"""nbgrader configuration for the course (run nbgrader from this directory).

Besides the usual course settings, this file prepares the environment that the grading kernel
inherits: nbgrader starts the kernel as a child process, so variables set here reach it.
"""

import os

c = get_config()  # noqa: F821 - provided by traitlets when nbgrader loads this file

# --- Course -----------------------------------------------------------------------------
c.CourseDirectory.course_id = "nn-basics"
c.CourseDirectory.assignment_id = ""  # name it on the command line, e.g. `nbgrader autograde nn_basics`

# --- Feedback language: "ja" (default) or "en". AUTOGRADER_LANG in the environment wins. -------
LANGUAGE = "ja"
os.environ.setdefault("AUTOGRADER_LANG", LANGUAGE)

# --- Data -----------------------------------------------------------------------------
# Path to a local copy of full MNIST (Keras mnist.npz, a folder of idx files, or a
# scikit-learn openml cache). Leave empty to use the default search order.
MNIST_PATH = ""
if MNIST_PATH:
    os.environ.setdefault("AUTOGRADER_MNIST", MNIST_PATH)

# --- Silence TensorFlow before the kernel imports it ---------------------------------------
# nbgrader gives 0 points to a test cell that writes anything to stderr, and TensorFlow logs
# harmless start-up lines there. Both variables must be set: the oneDNN notice ignores the
# log level.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("PYTHONWARNINGS", "ignore")

# --- Student release -----------------------------------------------------------------------
c.ClearSolutions.code_stub = {"python": "# ここにコードを書いてください\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "ここに答えを書いてください"

# --- Autograding -----------------------------------------------------------------------------
# One cell trains the model: 5 epochs on 60 000 rows take about 20 s on 2 cores, more on a
# loaded machine. Allow ten minutes per cell; a runaway cell is interrupted after that.
c.Execute.timeout = 600  # SurvivingExecute inherits Execute's settings
# Any remaining harmless stderr lines (absl / oneDNN / CUDA probing notices) are dropped
# before the grade is computed, so they cannot zero a test cell.
# Tamper-proof verdicts (autograder/preprocessors.py): capture the model and arrays after the
# student's cells, re-run every check in a clean process, and let that verdict decide. This is
# nbgrader's default autograde chain with three steps added, and its sanitize chain with one.
from nbconvert.preprocessors import ClearMetadataPreprocessor  # noqa: E402
from nbgrader.preprocessors import (  # noqa: E402
    AssignLatePenalties, CheckCellMetadata, ClearOutput, DeduplicateIds, IgnorePattern,
    LimitOutput, OverwriteCells, OverwriteKernelspec, SaveAutoGrades,
)

from autograder.preprocessors import (  # noqa: E402
    CleanProcessVerdict, FlagForReview, InjectCapture, RestoreCells, SurvivingExecute,
)

# A damaged submission (invalid JSON schema, a cell without source, a wrong nbformat) is read
# for what can be recovered instead of failing the student's whole grade; a valid one is read
# as nbformat reads it (autograder/submission_exporter.py).
from autograder.submission_exporter import SalvagingExporter  # noqa: E402

c.Autograde.exporter_class = SalvagingExporter

# Deleted, duplicated or split test cells are put back in the release's order first.
c.Autograde.sanitize_preprocessors = [
    ClearOutput, RestoreCells, DeduplicateIds, OverwriteKernelspec, OverwriteCells, CheckCellMetadata,
]

c.Autograde.autograde_preprocessors = [
    InjectCapture, SurvivingExecute, IgnorePattern, CleanProcessVerdict, ClearMetadataPreprocessor,
    LimitOutput, SaveAutoGrades, FlagForReview, AssignLatePenalties, CheckCellMetadata,
]
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"(?m)^(WARNING: All log messages before absl|I0000 |W0000 |E0000 |.*oneDNN custom operations|.*cuda_(?:dnn|blas|fft|driver)|.*Unable to register cu|.*TF-TRT Warning|.*computation placer already registered)"

# --- Student feedback (autograder/feedback/student.py) --------------------------------------
# `nbgrader generate_feedback` writes each student a page with the score of every check and,
# for each failed check, its message and hint in LANGUAGE. StudentFeedback runs after nbgrader's
# GetGrades and removes test cell code (hidden tests included), instructor code, verdict data
# and tracebacks before the page is rendered. The template is set for the feedback converter
# only (a GenerateFeedback.HTMLExporter section), so the formgrader keeps its own templates.
from nbconvert.preprocessors import CoalesceStreamsPreprocessor  # noqa: E402
from nbgrader.preprocessors import GetGrades  # noqa: E402

from autograder.feedback import TEMPLATE_DIR  # noqa: E402
from autograder.feedback.student import StudentFeedback  # noqa: E402

c.GenerateFeedback.preprocessors = [GetGrades, CoalesceStreamsPreprocessor(enabled=True), StudentFeedback]
c.GenerateFeedback.HTMLExporter.template_name = "nn_feedback"
c.GenerateFeedback.HTMLExporter.extra_template_basedirs = [str(TEMPLATE_DIR)]

# --- Sandbox for the grading kernel (autograder/sandbox, docs/security.md) ------------------
# Every submission's kernel runs with its own unprivileged uid, no network, grader-only paths
# hidden, and memory / process / CPU / file-size / output / time limits. The grader log says
# which protections are active on this machine ("Sandbox for grading kernels: ..."); what
# cannot be applied (not root, no cgroups) is listed there as NOT active.
# nbgrader's Execute ignores c.Execute.kernel_manager_class (its __init__ passes its own), so the
# sandbox comes in as SandboxedExecute, which replaces SurvivingExecute in the chain above.
from autograder.sandbox.manager import SandboxedExecute  # noqa: E402

c.Autograde.autograde_preprocessors = [SandboxedExecute if p is SurvivingExecute else p
                                       for p in c.Autograde.autograde_preprocessors]
c.Sandbox.enabled = True               # False: plain kernels, as before
c.Sandbox.memory_limit = 3 * 1024**3   # bytes, kernel and children (cgroup; also RLIMIT_DATA)
c.Sandbox.pids_limit = 256             # processes + threads of one kernel
c.Sandbox.cpus = 1.0                   # CPU quota; also sets OMP/BLAS/TensorFlow threads to 1
c.Sandbox.file_size_limit = 256 * 1024**2  # largest file the kernel may write
c.Sandbox.kernel_time_limit = 1800     # seconds per submission; cells have Execute.timeout
c.Sandbox.output_limit = 32 * 1024**2  # bytes of output per submission before the kernel is killed
c.Sandbox.network = False              # no network for student code
c.Sandbox.required = []                # e.g. ["uid", "net", "mount", "memory", "pids"] on a course server
# Cell output kept in the graded notebook and the feedback (nbgrader's LimitOutput, in the chain).
c.LimitOutput.max_lines = 1000
c.LimitOutput.max_traceback = 100

# --- Exchange: collect without following links (autograder/exchange_collect.py) ----------
# nbgrader's collect copies a student's inbound folder following links, as the instructor; a
# link left in the exchange would bring the instructor's files into submitted/. CheckedCollect
# refuses links, FIFOs, devices and oversized folders (docs/security.md).
c.ExchangeFactory.collect = "autograder.exchange_collect.CheckedCollect"
