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
from pathlib import Path

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
    "emlab_judge.execute.ResilientExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "emlab_judge.execute.TruncateOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
# Under the grading harness (make autograde), each kernel runs in its submission's
# sandbox (autograder/emlab_judge/sandbox.py writes this kernelspec per submission).
if os.environ.get("EMLAB_HARNESS") == "1":
    c.Execute.kernel_name = "emlab-sandbox"

# Feedback shows the failing check's message, never the hidden-test source.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
