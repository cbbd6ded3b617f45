"""nbgrader configuration for the EM Lab course.

Found by every nbgrader command and by nbgrader's JupyterLab extensions because the
Makefile exports JUPYTER_CONFIG_PATH=<repo>/autograder. Layout (nbgrader's steps):

    solutions/<assignment>/           source: solutions, hidden tests, stored outputs
    notebooks/<assignment>/           release: what students get
    autograder/submitted/<student>/<assignment>/
    autograder/autograded/<student>/<assignment>/
    autograder/feedback/<student>/<assignment>/
    autograder/gradebook.db           gradebook (EMLAB_GRADEBOOK_URL overrides)
    autograder/exchange/              nbgrader's exchange, for a course on one machine
    autograder/fetched/<course>/<assignment>/  what a student fetches in `make lab`'s Assignments tab
"""

import os
import sys
from pathlib import Path

# The grading harness (emlab_judge) lives beside this file: importable from a plain shell
# in the repository root, without PYTHONPATH.
if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.append(str(Path(__file__).resolve().parent))

c = get_config()  # noqa: F821  (provided by traitlets when this file is loaded)

ROOT = Path(os.environ.get("EMLAB_COURSE_ROOT", Path(__file__).resolve().parent.parent))
AUTOGRADER = Path(os.environ.get("EMLAB_AUTOGRADER_DIR", ROOT / "autograder"))


def _rel(path: Path) -> str:
    """nbgrader joins step directories to the course root: give them relative to it."""
    return os.path.relpath(path, ROOT)


c.CourseDirectory.course_id = "emlab"
c.CourseDirectory.root = str(ROOT)
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
c.CourseDirectory.submitted_directory = _rel(AUTOGRADER / "submitted")
c.CourseDirectory.autograded_directory = _rel(AUTOGRADER / "autograded")
c.CourseDirectory.feedback_directory = _rel(AUTOGRADER / "feedback")
c.CourseDirectory.db_url = os.environ.get(
    "EMLAB_GRADEBOOK_URL", f"sqlite:///{AUTOGRADER / 'gradebook.db'}"
)
# Only notebooks and the files they need are released: no caches, no checkpoints.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".*"]

c.Exchange.root = os.environ.get("EMLAB_EXCHANGE", str(AUTOGRADER / "exchange"))
c.Exchange.path_includes_course = True
# Collect records when each submission reached the exchange (a time the student cannot
# set): lateness rests on it (autograder/emlab_judge/lateness.py). Only where the trusted
# side is present: a student's `make lab` loads this file too.
import importlib.util  # noqa: E402

if importlib.util.find_spec("emlab_judge") is not None:
    c.ExchangeFactory.collect = "emlab_judge.lateness.RecordingCollect"
# Where a student's Assignments tab (in `make lab`'s JupyterLab) fetches to. Not the server's
# root, the course root, where the download folder (named after the course id) would land
# inside the emlab package.
c.Exchange.assignment_dir = os.environ.get("EMLAB_ASSIGNMENT_DIR", str(AUTOGRADER / "fetched"))

# Release: assignments are created in the gradebook on generation; the release holds
# no outputs (the source keeps them for nbval).
c.GenerateAssignment.create_assignment = True

# Grading: restore deleted or stripped test cells from the gradebook, so a student who
# removed a test is graded on it anyway; a per-cell timeout.
c.Autograde.create_student = True
c.OverwriteCells.add_missing_cells = True
c.Execute.timeout = int(os.environ.get("EMLAB_CELL_TIMEOUT", "60"))
# A kernel that dies or ignores the interrupt costs only the cell that did it.
c.Autograde.autograde_preprocessors = [
    # hidden checks before visible ones in each test cell: a failing visible check never
    # stops the record the judge needs (partial credit)
    "emlab_judge.hidden_first.HiddenChecksFirst",
    "emlab_judge.execute.ResilientExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "emlab_judge.execute.TruncateOutput",
    # the judge's verdicts, reached from the executed notebook in memory: the gradebook
    # gets the judge's score for every test cell that makes hidden checks
    "emlab_judge.judge_step.JudgeVerdicts",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.JudgeVerdicts.course_root = str(ROOT)
# Student ids with glob characters ([ab], *, ?) are graded like any other (nbgrader 0.9.6
# would glob a found folder's name a second time and skip it).
try:
    from emlab_judge.nbgrader_fixes import install as _literal_student_folders

    _literal_student_folders()
except ImportError:  # a student's `make lab`, without the trusted side
    pass
# Under the grading harness (make autograde), each kernel runs in its submission's
# sandbox (autograder/emlab_judge/sandbox.py writes this kernelspec per submission).
if os.environ.get("EMLAB_HARNESS") == "1":
    c.Execute.kernel_name = "emlab-sandbox"
    # The one student the harness grades, taken literally: a value here is never parsed the
    # way a command-line value is (a leading ~ expanded, quotes stripped); nbgrader takes it
    # as a glob pattern, so it is escaped.
    if os.environ.get("EMLAB_STUDENT_ID"):
        import glob as _glob

        c.CourseDirectory.student_id = _glob.escape(os.environ["EMLAB_STUDENT_ID"])

# One autograde path. Everywhere else (`nbgrader autograde` under this configuration, the
# formgrader's Autograde button), nbgrader's Autograde hands its work to the grading harness,
# what `make autograde` runs (autograder/emlab_judge/nbgrader_hook.py). Where the harness
# cannot be loaded, autograde refuses: it never grades with stock nbgrader.
if os.environ.get("EMLAB_HARNESS") != "1":
    try:
        from emlab_judge.nbgrader_hook import install as _grade_through_harness
    except Exception as _exc:
        from nbgrader.converters.autograde import Autograde as _Autograde
        from nbgrader.converters.base import NbGraderException as _Refused

        def _refuse_autograde(self, _why=f"{type(_exc).__name__}: {_exc}"):
            message = (f"autograde refused: the grading harness cannot be loaded ({_why}). "
                       "Nothing was graded by stock nbgrader. Grade with `make autograde`.")
            self.log.error(message)  # the command line shows the log, the formgrader the exception
            raise _Refused(message)

        _Autograde.start = _refuse_autograde
    else:
        _grade_through_harness()

# `nbgrader export` (and make grades' grades.csv): nbgrader's columns, written with the csv
# module and with formula-like text made inert (a student id is a folder name a student chose).
if importlib.util.find_spec("emlab_judge") is not None:
    c.ExportApp.plugin_class = "emlab_judge.export.SafeCsvExportPlugin"

# Feedback shows the failing check's message, never the hidden-test source.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbgrader.preprocessors.ClearHiddenTests",
    "emlab_judge.sanitize.SanitizeNotebook",  # no student script, handler or JS output runs in feedback
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]

# The formgrader shows a submission through one HTMLExporter built from this configuration
# (nbgrader 0.9.6: server_extensions/formgrader/formgrader.py, with no preprocessor list of its
# own): its configurable preprocessors make student markdown and outputs safe to show with the
# instructor's session (see autograder/emlab_judge/sanitize.py). Feedback's exporter runs none
# of its own: the same preprocessor runs there once, above, after ClearHiddenTests.
c.HTMLExporter.preprocessors = ["emlab_judge.sanitize.SanitizeNotebook"]
c.GenerateFeedback.HTMLExporter.preprocessors = []
