"""The one runner behind every visible check (emlab.visible): what it does the same way for every
lab, tried on a small spec written here: the signature, inputs left untouched, warnings kept
off stderr, an exception from the student's code naming the case and the student's line, the
recognised mistake's hint before the generic message, the traceback without the runner's frames."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap
from contextlib import redirect_stdout

import numpy as np
import pytest

from conftest import REPO
from emlab.visible import Case, FunctionSpec, Mistake, Output, VisibleCheckFailure, run

SPEC = FunctionSpec(
    name="double",
    params=("x",),
    returns=Output("y", lambda a: a["x"].shape, "one value per entry"),
    nonfinite=Mistake("overflowed", "something overflowed."),
    mistakes=(Mistake("returned_input", "you returned x itself.", test=lambda s: np.array_equal(s.out, s.args["x"])),),
    cases=(
        Case("x = (1, 2)", dict(x=[1.0, 2.0]), expect=[2.0, 4.0], why="each entry doubled.",
             mistakes=(Mistake("squared", "you squared x instead of doubling it.", gives=[1.0, 4.0]),)),
        Case("x = (3,) and (-3,)", (dict(x=[3.0]), dict(x=[-3.0])), holds=lambda s: np.allclose(s.outs[0], -s.outs[1]),
             why="doubling is odd: f(-x) = -f(x)."),
    ),
    passed="double looks right.",
)


def _failure(func) -> VisibleCheckFailure:
    with pytest.raises(VisibleCheckFailure) as info:
        run(SPEC, func)
    return info.value


def test_a_right_function_passes_and_prints_one_line():
    out = io.StringIO()
    with redirect_stdout(out):
        run(SPEC, lambda x: 2 * x)
    assert out.getvalue() == "✓ double looks right.\n"


@pytest.mark.parametrize(("func", "mistake", "words"), [
    (lambda x: x ** 2, "squared", "you squared x"),
    (lambda x: x, "returned_input", "you returned x itself"),
    (lambda x: x + 1, "wrong_value", "expected [2., 4.]; got [2., 3.]. each entry doubled."),
    (lambda x: 2 * abs(x), "wrong_value", "doubling is odd"),
    (lambda x: None, "no_return", "forget the `return`"),
    (lambda x: np.stack([2 * x, 2 * x]), "wrong_shape", "expected shape (2,)"),
    (lambda x: (2 * x, 1), "not_numeric", "y should be real numbers"),
    (lambda x: [str(v) for v in 2 * x], "not_numeric", "got text"),
    (lambda x: 2 * x + 0j, "not_numeric", "got complex numbers"),
    (lambda x: x * np.inf, "overflowed", "something overflowed"),
    (lambda x: "two", "not_numeric", "should be real numbers"),
])
def test_each_wrong_answer_gets_its_own_named_message(func, mistake, words):
    failure = _failure(func)
    assert failure.mistake == mistake
    assert words in str(failure)
    assert str(failure).startswith("double, on the case 'x = ")


def test_the_signature_is_checked_by_name_before_any_call():
    calls = []

    def double(values):
        calls.append(values)
        return 2 * values

    failure = _failure(double)
    assert failure.mistake == "signature" and "(x)" in str(failure) and "(values)" in str(failure)
    assert calls == []
    # a further argument with a default is fine; one without is named
    run(SPEC, lambda x, scale=2.0: scale * x)
    assert "scale has none" in str(_failure(lambda x, scale: 2 * x))


def test_an_input_modified_in_place_is_named_and_the_case_data_survive():
    def double(x):
        x *= 2
        return x

    failure = _failure(double)
    assert failure.mistake == "modified_input" and "'x'" in str(failure)
    assert SPEC.cases[0].args["x"] == [1.0, 2.0]


def test_an_exception_names_the_case_and_keeps_the_students_line():
    def double(x):
        return x.reshape(3)   # a student's error

    with pytest.raises(ValueError) as info:
        run(SPEC, double)
    assert any("while the visible check ran the case 'x = (1, 2)'" in note for note in info.value.__notes__)
    frames = [frame.name for frame in __import__("traceback").extract_tb(info.value.__traceback__)]
    assert frames[-1] == "double"


def test_warnings_are_silenced_while_the_function_runs():
    """nbgrader counts a test cell that writes to stderr as failed: a RuntimeWarning from the
    student's code (an overflow that the code handles) must not reach stderr."""
    code = textwrap.dedent("""
        import numpy as np, warnings
        from emlab.visible import run
        from test_visible_runner import SPEC
        def double(x):
            np.exp(np.array([1000.0]))          # overflows, warns, is not used
            warnings.warn("deprecated thing", DeprecationWarning)
            return 2 * x
        run(SPEC, double)
    """)
    done = subprocess.run([sys.executable, "-W", "always", "-c", code], capture_output=True, text=True,
                          cwd=REPO / "tests", env={"PYTHONPATH": f"{REPO}:{REPO / 'tests'}:{REPO / 'autograder'}"},
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.strip() == "✓ double looks right."


def test_ipython_hides_the_runners_frames():
    """In the notebook the failure shows the message, not the runner's internals (IPython asks the
    exception to render itself); an error from the student's own code keeps its traceback."""
    code = textwrap.dedent("""
        from IPython.core.interactiveshell import InteractiveShell
        shell = InteractiveShell.instance(colors="nocolor")
        shell.run_cell("from emlab.visible import run\\nfrom test_visible_runner import SPEC\\nrun(SPEC, lambda x: x ** 2)")
        print("=== second cell")
        shell.run_cell("def double(x):\\n    return x.reshape(3)  # the student's line\\nrun(SPEC, double)")
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO / "tests",
                          env={"PYTHONPATH": f"{REPO}:{REPO / 'tests'}:{REPO / 'autograder'}", "HOME": "/tmp"},
                          timeout=120)
    first, second = (done.stdout + done.stderr).split("=== second cell")
    assert first.strip().startswith("AssertionError: double, on the case 'x = (1, 2)':\nyou squared x")
    assert "_run_case" not in first and "visible.py" not in first
    assert "ValueError" in second and "return x.reshape(3)  # the student's line" in second
    assert "while the visible check ran the case 'x = (1, 2)'" in second


def test_integer_outputs_are_required_where_the_statement_says_so():
    spec = FunctionSpec("pairs", ("n",), Output("pairs", (1, 2), "index pairs", integer=True),
                        (Case("n = 2", dict(n=2), expect=[[0, 1]]),), "pairs looks right.")
    with redirect_stdout(io.StringIO()):
        run(spec, lambda n: np.array([[0, 1]]))
    with pytest.raises(VisibleCheckFailure) as info:
        run(spec, lambda n: np.array([[0.0, 1.0]]))
    assert info.value.mistake == "not_integer"


def test_every_lab_spec_is_well_formed():
    """Each lab's specs: names unique within a function, every case labelled, a ✓ text, and
    every mistake's message a sentence a student can read."""
    from emlab.specs import LABS, specs_of

    for lab in LABS:
        for name, spec in specs_of(lab).items():
            assert name == spec.name and spec.passed and spec.cases, (lab, name)
            mistakes = list(spec.mistakes) + [m for case in spec.cases for m in case.mistakes] + [spec.nonfinite]
            for m in mistakes:
                assert len(m.message) > 20 and m.name.isidentifier(), (lab, name, m.name)
                assert (m.gives is not None) or (m.test is not None) or m is spec.nonfinite, (lab, name, m.name)
            labels = [case.label for case in spec.cases]
            assert len(set(labels)) == len(labels), (lab, name, "two cases share a label")


def test_a_limit_case_compares_infinities_and_refuses_nan():
    """A case whose answer is infinite (a Dirac density) skips the finite check; an infinity
    equals only itself, and NaN is wrong (and meets the case's own mistakes)."""
    spec = FunctionSpec("log_spike", ("x",), Output("y", lambda a: a["x"].shape), (
        Case("x = (0, 1)", dict(x=[0.0, 1.0]), expect=[np.inf, -np.inf], infinite=True,
             mistakes=(Mistake("nan_at_the_spike", "NaN where the spike is.", test=lambda s: np.isnan(s.out[0])),)),
        Case("x = (2,)", dict(x=[2.0]), expect=[-np.inf]),
    ), "log_spike looks right.")
    with pytest.raises(VisibleCheckFailure) as info:   # an ordinary case still refuses infinities
        run(spec, lambda x: np.where(x == 0, np.inf, -np.inf))
    assert info.value.mistake == "nonfinite" and info.value.case == "x = (2,)"
    for wrong, mistake in [(lambda x: np.where(x == 0, np.nan, -np.inf), "nan_at_the_spike"),
                           (lambda x: np.where(x == 0, -np.inf, np.inf), "wrong_value")]:
        with pytest.raises(VisibleCheckFailure) as info:
            run(spec, wrong)
        assert info.value.mistake == mistake and info.value.case == "x = (0, 1)"


def test_two_calls_returning_one_reused_buffer_are_two_outputs():
    """A function that writes every answer into one module-level array returns the same object
    twice: the runner keeps a copy of each output, so a relation between calls sees both."""
    buffers = {}

    def reused(n):
        return buffers.setdefault(n, np.zeros(n))

    def double(x):
        out = reused(len(x))
        out[:] = 2 * x
        return out

    with redirect_stdout(io.StringIO()) as out:
        run(SPEC, double)
    assert out.getvalue().startswith("✓")

    def wrong(x):
        out = reused(len(x))
        out[:] = abs(2 * x) if len(x) == 1 else 2 * x   # not odd: f(-3) = 6, not -6
        return out

    with pytest.raises(VisibleCheckFailure) as info:
        run(SPEC, wrong)
    assert info.value.case == "x = (3,) and (-3,)"
