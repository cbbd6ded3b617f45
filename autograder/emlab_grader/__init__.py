"""EM Lab's in-kernel grading API: what a hidden test cell imports.

It is the only part of autograder/ a student's kernel can see while it is graded, and it
holds no reference implementation and no expected value:

api         check(assignment, function, func): runs the hidden cases, records the outputs
cases       deterministic hidden-check inputs, keyed by assignment and function
properties  checks any correct output passes (shape, rows summing to one, ...)
record      encodes outputs for the judge outside the kernel (numbers only, no pickle)

The verdict that counts is reached by the trusted package emlab_judge, outside the kernel.
"""

from .api import HiddenCheckFailed, check, use_judge

__all__ = ["check", "HiddenCheckFailed", "use_judge"]
