"""Each lab's further mistakes (tests/banks/<lab>/more/), put through the hidden checks and
the trusted judge in this process, without a notebook: every one is caught on exactly the
functions it breaks and explained.

The banks proper (tests/test_bank_lab*.py) grade their modules through real nbgrader
autograde; the modules under more/ exercise the judge's named mistakes beyond those, at a
fraction of the cost (no kernel per module).
"""

from __future__ import annotations

import importlib

import pytest

from grading_support import judge_only_problems

LABS = ["test_bank_lab01", "test_bank_lab02", "test_bank_lab03", "test_bank_lab04", "test_bank_lab05"]


@pytest.mark.parametrize("bank", LABS)
def test_more_mistakes_are_caught_by_the_hidden_checks(bank):
    spec = importlib.import_module(bank).SPEC
    checked, problems = judge_only_problems(spec)
    more = spec.directory / "more"
    assert checked == len(list(more.glob("*.py"))) if more.is_dir() else checked == 0
    assert not problems, "\n".join(problems)
