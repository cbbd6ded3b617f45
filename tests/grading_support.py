"""Helpers for tests that grade submissions with the real ``nbgrader``, in a throw-away
copy of the course. Generic over assignment id and notebook name, for every lab.

Typical use (one batch of submissions, one ``nbgrader autograde``):

    course = temporary_course(tmp_path, ["03-old-faithful"])
    run_nbgrader(course, "generate_assignment", "03-old-faithful", "--force",
                 f"--CourseDirectory.release_directory={course.scratch / 'release'}")
    release = course.release_notebook("03-old-faithful", "old_faithful.ipynb")
    build_submission(release, {"e_step": src}, course.submission_path("alice", "03-old-faithful",
                                                                      "old_faithful.ipynb"))
    run_nbgrader(course, "autograde", "03-old-faithful", "--force")
    scores = scores_from_gradebook(course, "03-old-faithful")   # {"alice": {"test_e_step": 4.0, ..., "total": ...}}

``nbgrader autograde`` under the course configuration is the grading harness (each kernel
in the sandbox, verdicts judged outside it: emlab_judge.nbgrader_hook), as ``make
autograde`` is; it exits non-zero when a submission could not be graded at all.

Nothing touches the repository or ``$HOME``: the course (sources, release, nbgrader
configuration, grading packages) is copied under ``tmp_path``, and Jupyter, IPython and
matplotlib state lives there too. The course data is not copied: ``emlab`` is installed
in the venv (editable) and finds it in ``<repo>/data``.
"""

from __future__ import annotations

import ast
import contextlib
import io
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

__all__ = [
    "REPO", "Course", "temporary_course", "build_submission", "run_nbgrader", "scores_from_gradebook",
    "solution_sources", "split_functions", "grade_id", "BankSpec", "cell_points", "grade_bank", "bank_report",
    "judge_only_problems",
]

REPO = Path(__file__).resolve().parent.parent
PYTHON = Path(sys.executable)  # the venv's python: tests run under it

# Environment variables of the course configuration that must not leak in from the
# caller (e.g. `make test` run from an instructor's shell): the temporary course sets its own.
_KEEP_EMLAB = {"EMLAB_DATA", "EMLAB_CELL_TIMEOUT"}
_IGNORE = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "*.pyc")


@dataclass(frozen=True)
class Course:
    """A temporary copy of the course.

    root : the course root (holds solutions/, notebooks/, autograder/)
    env : environment for nbgrader and its kernels
    scratch : a folder under the temporary directory for anything else (release output, ...)
    """

    root: Path
    env: dict
    scratch: Path

    @property
    def autograder(self) -> Path:
        return self.root / "autograder"

    @property
    def db_url(self) -> str:
        return self.env["EMLAB_GRADEBOOK_URL"]

    def release_notebook(self, assignment: str, name: str) -> Path:
        return self.root / "notebooks" / assignment / name

    def source_notebook(self, assignment: str, name: str) -> Path:
        return self.root / "solutions" / assignment / name

    def submission_path(self, student: str, assignment: str, name: str) -> Path:
        return self.autograder / "submitted" / student / assignment / name


def _course_env(root: Path, tmp: Path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not (k.startswith("EMLAB_") and k not in _KEEP_EMLAB) and not k.startswith("JUPYTER_")}
    for var, sub in [("JUPYTER_CONFIG_DIR", "jupyter-config"), ("JUPYTER_DATA_DIR", "jupyter-data"),
                     ("JUPYTER_RUNTIME_DIR", "jupyter-runtime"), ("IPYTHONDIR", "ipython"),
                     ("MPLCONFIGDIR", "matplotlib")]:
        path = tmp / sub
        path.mkdir(parents=True, exist_ok=True)
        env[var] = str(path)
    autograder = root / "autograder"
    env.update({
        "JUPYTER_CONFIG_PATH": str(autograder),  # nbgrader reads autograder/nbgrader_config.py
        "EMLAB_COURSE_ROOT": str(root),
        "EMLAB_AUTOGRADER_DIR": str(autograder),
        "EMLAB_GRADEBOOK_URL": f"sqlite:///{autograder / 'gradebook.db'}",
        "EMLAB_EXCHANGE": str(tmp / "exchange"),
        "PYTHONPATH": str(autograder),  # hidden test cells import emlab_grader in the kernel
        "PYTHONNOUSERSITE": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "MPLBACKEND": "Agg",
        # nbgrader's gradebook runs the venv's `alembic`: the venv's bin comes first
        "PATH": os.pathsep.join([str(PYTHON.parent), os.environ.get("PATH", "")]),
    })
    return env


def temporary_course(tmp_path: Path, assignments, *, repo: Path = REPO) -> Course:
    """Copy the course's parts needed to release and grade ``assignments`` under ``tmp_path``.

    Copied: solutions/<a>/ and notebooks/<a>/ (when released) for each assignment,
    autograder/nbgrader_config.py and every Python package in autograder/ (emlab_grader,
    which hidden test cells import; emlab_judge, which the configuration's preprocessors
    and the trusted judge come from).
    """
    tmp_path = Path(tmp_path)
    root = tmp_path / "course"
    (root / "autograder").mkdir(parents=True)
    for assignment in assignments:
        src = repo / "solutions" / assignment
        if not src.is_dir():
            raise FileNotFoundError(f"no source for assignment {assignment!r}: {src} is missing")
        shutil.copytree(src, root / "solutions" / assignment, ignore=_IGNORE)
        release = repo / "notebooks" / assignment
        if release.is_dir():
            shutil.copytree(release, root / "notebooks" / assignment, ignore=_IGNORE)
    shutil.copy2(repo / "autograder" / "nbgrader_config.py", root / "autograder" / "nbgrader_config.py")
    for package in sorted((repo / "autograder").iterdir()):
        if package.is_dir() and (package / "__init__.py").exists():
            shutil.copytree(package, root / "autograder" / package.name, ignore=_IGNORE)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    return Course(root=root, env=_course_env(root, tmp_path / "home"), scratch=scratch)


def submit(course: Course, assignment: str, notebook: str, students: dict) -> None:
    """Place each student's submission in the course's ``submitted/`` folder.

    students: {student id: an nbformat notebook, or the file's raw bytes}.
    """
    for student, content in students.items():
        dest = course.submission_path(student, assignment, notebook)
        dest.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            dest.write_bytes(content)
        else:
            nbformat.write(content, dest)


def grade_id(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def build_submission(release_nb_path, replacements: dict, dest) -> Path:
    """A student's notebook: the release notebook with the sources of the cells whose
    grade_id is a key of ``replacements`` replaced by its value. Written to ``dest``.

    Raises KeyError when a grade_id is not in the notebook (or is there more than once).
    """
    nb = nbformat.read(str(release_nb_path), as_version=4)
    found: dict[str, int] = {}
    for cell in nb.cells:
        gid = grade_id(cell)
        if gid in replacements:
            found[gid] = found.get(gid, 0) + 1
            cell.source = replacements[gid]
    missing = sorted(set(replacements) - set(found))
    if missing:
        known = [grade_id(c) for c in nb.cells if grade_id(c)]
        raise KeyError(f"{release_nb_path}: no cell with grade_id {missing}; the notebook has {known}")
    repeated = sorted(g for g, n in found.items() if n > 1)
    if repeated:
        raise KeyError(f"{release_nb_path}: grade_id {repeated} appears more than once")
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(dest))
    return dest


_SOLUTION_MARKER = re.compile(r"^\s*#+\s*(BEGIN|END) SOLUTION\b")


def solution_sources(source_nb_path, grade_ids) -> dict:
    """The model answers in an nbgrader source notebook: {grade_id: cell source} with the
    ``### BEGIN SOLUTION`` / ``### END SOLUTION`` lines removed."""
    nb = nbformat.read(str(source_nb_path), as_version=4)
    cells = {grade_id(c): c for c in nb.cells if grade_id(c)}
    missing = [g for g in grade_ids if g not in cells]
    if missing:
        raise KeyError(f"{source_nb_path}: no cell with grade_id {missing}")
    return {g: "\n".join(line for line in cells[g].source.splitlines() if not _SOLUTION_MARKER.match(line))
            for g in grade_ids}


def split_functions(source: str, names) -> dict:
    """Split a module into one answer cell per graded function, as a student would write
    them: {name: cell source}. Each cell holds the module's shared parts (imports,
    helpers, constants; not its docstring) followed by that one function."""
    tree = ast.parse(source)
    lines = source.splitlines()
    names = list(names)

    def text(node):
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        return "\n".join(lines[start - 1:node.end_lineno])

    shared, graded = [], {}
    for i, node in enumerate(tree.body):
        if i == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) \
                and isinstance(node.value.value, str):
            continue  # the module docstring
        if isinstance(node, ast.FunctionDef) and node.name in names:
            graded[node.name] = text(node)
        else:
            shared.append(text(node))
    missing = [n for n in names if n not in graded]
    if missing:
        raise KeyError(f"the module defines no top-level {missing}")
    prefix = "\n\n".join(shared)
    return {n: (prefix + "\n\n\n" + graded[n]) if prefix else graded[n] for n in names}


def run_nbgrader(course: Course, *args, timeout: float | None = None) -> subprocess.CompletedProcess:
    """Run ``<venv python> -m nbgrader <args>`` in the course; raise on failure with its output."""
    cmd = [str(PYTHON), "-m", "nbgrader", *map(str, args)]
    proc = subprocess.run(cmd, cwd=course.root, env=course.env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[2:])} failed with exit code {proc.returncode}\n"
                           f"--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}")
    return proc


def scores_from_gradebook(course: Course, assignment: str) -> dict:
    """{student: {grade_id: score, ..., "total": score}} from the course's gradebook.

    ``score`` is nbgrader's: the manual score where one was given, else the automatic one.
    """
    from nbgrader.api import Gradebook

    out: dict[str, dict] = {}
    with Gradebook(course.db_url) as gb:
        for submission in gb.find_assignment(assignment).submissions:
            row: dict = {}
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    row[grade.name] = float(grade.score)
            row["total"] = float(submission.score)
            out[submission.student.id] = row
    return out


# --------------------------------------------------------------------------- banks of submissions
# One lab's bank (tests/banks/<lab>/: correct_*.py and buggy_*.py modules) graded in one
# real ``nbgrader autograde`` batch, with the model answer. Used by tests/test_bank_lab*.py.

@dataclass(frozen=True)
class BankSpec:
    """A lab's bank.

    assignment, notebook : nbgrader assignment id and notebook name
    tests : {graded function (answer cell grade_id): its test cell's grade_id}
    directory : the folder of bank modules
    artifact : where the table of scores is written
    """

    assignment: str
    notebook: str
    tests: dict
    directory: Path
    artifact: Path
    reference: str = "all_correct"  # student id of the model answer (the source's solution cells)

    def modules(self, folder: Path | None = None):
        """[(student id, module source, functions its bug hits)] for every bank module in
        ``folder`` (default: the bank's own folder, whose modules nbgrader grades; its
        ``more/`` subfolder holds further mistakes checked by the judge alone). A buggy
        module's docstring names the functions before a colon: "e_step, m_step: ..."."""
        names = "|".join(map(re.escape, self.tests))
        pattern = re.compile(rf"((?:{names})(?:, (?:{names}))*): \S")
        entries = []
        for path in sorted((folder or self.directory).glob("*.py")):
            source = path.read_text()
            doc = (ast.get_docstring(ast.parse(source)) or "").strip()
            if path.stem.startswith("correct_"):
                targets = ()
            elif path.stem.startswith("buggy_"):
                m = pattern.match(doc)
                example = next(iter(self.tests))
                assert m, f"{path.name}: the docstring's first line should start '{example}: ...'"
                targets = tuple(m.group(1).split(", "))
            else:
                raise AssertionError(f"{path.name}: bank modules are named correct_*.py or buggy_*.py")
            entries.append((path.stem, source, targets))
        return entries


def cell_points(notebook_path, grade_ids) -> dict:
    """{grade_id: points} of the given cells, read from a notebook's nbgrader metadata."""
    nb = nbformat.read(str(notebook_path), as_version=4)
    points = {grade_id(c): float(c.metadata["nbgrader"].get("points", 0)) for c in nb.cells if grade_id(c)}
    missing = [g for g in grade_ids if g not in points]
    if missing:
        raise KeyError(f"{notebook_path}: no cell with grade_id {missing}")
    return {g: points[g] for g in grade_ids}


def _hidden_verdicts(spec: BankSpec, source: str) -> dict:
    """{function: None if its hidden checks pass, else their message}, by calling
    ``emlab_grader.check`` on the module's functions in this process (a trusted run: the
    judge is handed in), independently of the notebook's visible checks."""
    from emlab_grader import HiddenCheckFailed, check, use_judge
    from emlab_judge.judge import judge

    use_judge(judge)

    namespace: dict = {"__name__": "bank_module"}
    exec(compile(source, "<bank module>", "exec"), namespace)
    out = {}
    for function in spec.tests:
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                check(spec.assignment, function, namespace[function])
            out[function] = None
        except HiddenCheckFailed as exc:
            out[function] = str(exc)
    return out


def judge_only_problems(spec: BankSpec) -> tuple[int, list[str]]:
    """Put the bank's ``more/`` modules through the hidden checks in this process (trusted
    judge included, no notebook): every buggy one must fail the hidden checks of exactly the
    functions its docstring names. Returns (modules checked, problems)."""
    problems, entries = [], spec.modules(spec.directory / "more")
    for student, source, targets in entries:
        for function, message in _hidden_verdicts(spec, source).items():
            if function in targets and not message:
                problems.append(f"more/{student}: the hidden checks of {function} pass: its bug is not caught")
            if function not in targets and message:
                problems.append(f"more/{student}: {function} fails its hidden checks, which its bug does not touch: "
                                f"{message}")
    return len(entries), problems


def _caught_by(spec: BankSpec, autograded_nb: Path) -> dict:
    """{function: "visible" | "hidden" | error name} for each test cell that ended in an
    error in the autograded notebook: the notebook's visible check (emlab.checks, an
    AssertionError) or the hidden one (emlab_grader, HiddenCheckFailed)."""
    if not autograded_nb.exists():
        return {}
    by_test = {gid: f for f, gid in spec.tests.items()}
    out = {}
    for cell in nbformat.read(str(autograded_nb), as_version=4).cells:
        function = by_test.get(grade_id(cell))
        errors = [o.get("ename") for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if function and errors:
            out[function] = {"AssertionError": "visible", "HiddenCheckFailed": "hidden"}.get(errors[0], errors[0])
    return out


def _table(spec: BankSpec, points: dict, rows, scores) -> str:
    full = sum(points.values())
    header = ["student", *spec.tests, "total", "expected", "caught by (notebook)", "hidden checks fail", "verdict"]
    lines = []
    for student, targets, caught, hidden, verdict in rows:
        got = scores.get(student, {})
        expected = (f"{full:g}/{full:g}" if student == spec.reference else
                    f"= {spec.reference}" if not targets else "loses " + ", ".join(targets))
        cells = [student] + [f"{got.get(spec.tests[f], float('nan')):g}" for f in spec.tests] + \
                [f"{got.get('total', float('nan')):g}", expected,
                 ", ".join(f"{f}: {how}" for f, how in caught.items()) or "-",
                 ", ".join(f for f, message in hidden.items() if message) or "-", verdict]
        lines.append(cells)
    widths = [max(len(str(r[i])) for r in [header, *lines]) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([fmt.format(*header), fmt.format(*("-" * w for w in widths))] +
                      [fmt.format(*r) for r in lines])


# in a buggy bank module's docstring: its functions are right on every ordinary hidden case
# and wrong only on the far point, so each keeps more than 0 and less than its full points
ORDINARY_RIGHT = "Right on every ordinary case."


def grade_bank(spec: BankSpec, tmp_path, repo: Path = REPO):
    """Grade the bank and the model answer in one batch.

    Every module becomes a student's notebook (student id = file stem): the release
    notebook with each answer cell replaced by the module's shared parts and that one
    function; the model answer comes from the source notebook's solution cells.

    Returns (rows, scores, problems, points, seconds): a row per student (id, targets,
    caught by, hidden verdicts, verdict), the gradebook's scores, what is wrong, the test
    cells' points (from the release notebook) and the wall time.
    """
    start = time.monotonic()
    course = temporary_course(tmp_path, [spec.assignment], repo=repo)
    release = course.release_notebook(spec.assignment, spec.notebook)
    assert release.exists(), f"{release.relative_to(course.root)} is missing: run make release"
    points = cell_points(release, spec.tests.values())
    # the gradebook learns the assignment, its grade cells and their points from the source
    run_nbgrader(course, "generate_assignment", spec.assignment, "--force",
                 f"--CourseDirectory.release_directory={course.scratch / 'release'}")

    modules = spec.modules()
    answers = {spec.reference: (solution_sources(course.source_notebook(spec.assignment, spec.notebook),
                                                 spec.tests), ())}
    for student, source, targets in modules:
        answers[student] = (split_functions(source, spec.tests), targets)
    for student, (cells, _) in answers.items():
        build_submission(release, cells, course.submission_path(student, spec.assignment, spec.notebook))
    run_nbgrader(course, "autograde", spec.assignment, "--force")
    scores = scores_from_gradebook(course, spec.assignment)

    sources = {student: source for student, source, _ in modules}
    problems, rows = [], []
    ref_total = scores.get(spec.reference, {}).get("total")
    for student, (_, targets) in answers.items():
        got = scores.get(student)
        if got is not None:
            got = {**{gid: 0.0 for gid in spec.tests.values()}, **got}  # a test cell never graded scores 0
        hidden = (_hidden_verdicts(spec, sources[student]) if student != spec.reference
                  else {f: None for f in spec.tests})
        caught = _caught_by(spec, course.autograder / "autograded" / student / spec.assignment / spec.notebook)
        mine = []
        if got is None:
            mine.append("not in the gradebook")
        elif student == spec.reference:
            mine += [f"{gid} got {got.get(gid)} of {points[gid]:g}" for gid in spec.tests.values()
                     if got.get(gid) != points[gid]]
        elif not targets:  # a correct implementation
            if got["total"] != ref_total:
                mine.append(f"total {got['total']:g} != {spec.reference}'s {ref_total}")
            mine += [f"hidden checks of {f} fail: {message}" for f, message in hidden.items() if message]
        else:
            if ref_total is None or not got["total"] < ref_total:
                mine.append(f"total {got['total']:g} not below {spec.reference}'s {ref_total}")
            if ORDINARY_RIGHT in sources[student]:  # wrong only on the far point: partial credit
                mine += [f"{gid}: {got[gid]:g} of {points[gid]:g}, not partial credit for a function right on every "
                         "ordinary case" for f, gid in spec.tests.items() if f in targets and not 0 < got[gid] < points[gid]]
            for f, gid in spec.tests.items():
                if f in targets and not got[gid] < points[gid]:
                    mine.append(f"keeps {got[gid]:g} of {points[gid]:g} on {gid}: its bug was not caught")
                if f in targets and not hidden[f]:
                    mine.append(f"the hidden checks of {f} pass: its bug is caught only by the visible check")
                if f not in targets and got[gid] != points[gid]:  # one bug costs only its own function's points
                    mine.append(f"loses points on {gid} ({got[gid]:g} of {points[gid]:g}), "
                                "which its bug does not touch")
        problems += [f"{student}: {m}" for m in mine]
        rows.append((student, targets, caught, hidden, "ok" if not mine else "; ".join(mine)))
    return rows, scores, problems, points, time.monotonic() - start


def bank_report(spec: BankSpec, title: str, rows, scores, points, seconds) -> str:
    """The table of scores with a title line; also written to ``spec.artifact``."""
    n_buggy = sum(row[0].startswith("buggy_") for row in rows)
    n_correct = sum(row[0].startswith("correct_") for row in rows)
    report = (f"{title}: {len(rows)} submissions ({n_buggy} buggy, {n_correct} correct, 1 model answer) "
              f"graded by one nbgrader autograde batch in {seconds:.0f} s\n" + _table(spec, points, rows, scores))
    spec.artifact.parent.mkdir(exist_ok=True)
    spec.artifact.write_text(report + "\n")
    return report
