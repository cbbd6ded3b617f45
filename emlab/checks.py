"""Visible checks for lab 03: run them under each function you write.

Each check calls your function on a few small cases whose answer you could work out by
hand (one component, two identical components, a point at a component's centre, 0/1
responsibilities, ...), with fresh copies of the inputs, and either prints a line starting
with ``✓`` or raises ``AssertionError`` with a message that says, in words, what is wrong
and where to look. The cases and the mistakes they recognise are written out in
:mod:`emlab.specs.lab03`; :mod:`emlab.visible` runs them.

Passing these checks is necessary, not sufficient: the grader also runs your functions
on other inputs (other K and D, unequal weights, random covariances, a point far from
every component). There is no reference implementation in this module.

Shapes (N points, D features, K components)::

    X (N, D)   mu (K, D)   Sigma (K, D, D)   pi (K,)   gamma (N, K)

with mu[k], Sigma[k] and pi[k] the mean, covariance matrix and mixing weight of component k.
"""

from __future__ import annotations

from .checking import loglik_never_decreases
from .specs.lab03 import SPECS

__all__ = ["check_e_step", "check_m_step", "check_loglik", "check_monotone"]

check_e_step = SPECS["e_step"].checker()
check_m_step = SPECS["m_step"].checker()
check_loglik = SPECS["loglik"].checker()


# --------------------------------------------------------------------------- monotone
def check_monotone(history, *more, rtol: float = 1e-8) -> None:
    """Check that the log-likelihood never went down during an EM run; print a ``✓`` line.

    history : EMHistory (from :func:`emlab.em.run_em`), or a sequence of float: the log-likelihoods after 0, 1, 2, ...
        iterations, in nats
    more : further runs' histories, each checked the same way (one ✓ line for them all)
    rtol : a decrease below ``rtol * max(1, |l|)`` is round-off, not a bug

    Raises AssertionError naming the iteration where l decreased and by how much.
    """
    __tracebackhide__ = True
    loglik_never_decreases(history, rtol, more=more, runner="run_em",
                           nonfinite=(". NaN or -inf usually means densities that underflowed to 0 (use log-densities and "
                                     "logsumexp) or a covariance that collapsed onto one point."),
                           decrease=("EM can never decrease it: the E step makes the lower bound touch l, the M step raises "
                                    "the bound, so l cannot fall. A decrease means e_step, m_step and loglik disagree: check "
                                    "that m_step maximises exactly (N_k, not N_k - 1; the new mu_k inside Sigma_k) and that "
                                    "loglik and e_step use the same density and the weights pi."))
