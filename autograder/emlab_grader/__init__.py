"""EM Lab's grading package: instructor side, never shipped to students.

reference  reference implementations (log-domain, vectorised)
cases      deterministic hidden-check inputs, keyed by assignment and function
judge      compares an output with the reference and explains differences in words
api        check(assignment, function, func): the one call hidden test cells make
"""

from .api import HiddenCheckFailed, check

__all__ = ["check", "HiddenCheckFailed"]
