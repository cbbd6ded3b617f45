"""The reference EM (autograder/emlab_judge/reference.py) against scikit-learn's
``GaussianMixture``: full covariances, the same start, the same number of iterations, no
early stop, on N = 10^4, 10^5, 10^6 points in D = 2 and D = 10 with K = 3.

One "iteration" is one E step and one M step. scikit-learn's ``fit`` also does one E step
before the first M step (as the reference's first iteration does) and computes the
log-likelihood of the final parameters in the same pass; both sides are timed over the
whole fit and divided by the iteration count. The log-likelihoods of the final
parameters must agree to 1e-8 relative.

Both sides use the same BLAS with the same number of threads (threadpoolctl): one thread,
as every grading kernel and test runs, and then every core, BLAS's default.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture
from threadpoolctl import threadpool_limits

from emlab_judge import reference as ref

from .measure import Timing, peak_memory_mib, time_runs

__all__ = ["ScalingRow", "em_scaling"]


@dataclass(frozen=True)
class ScalingRow:
    N: int
    D: int
    K: int
    blas_threads: int
    n_iter: int
    ours: Timing          # seconds per iteration
    sklearn: Timing       # seconds per iteration
    ours_mib: float       # peak memory of one fit
    sklearn_mib: float
    rel_loglik_diff: float

    @property
    def ratio(self) -> float:
        """Our time per iteration over scikit-learn's (below 1: we are faster)."""
        return self.ours.median / self.sklearn.median


def _problem(N: int, D: int, K: int, seed: int = 0):
    """Data from K well-separated Gaussians and a start shared by both fits."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=4.0, size=(K, D))
    z = rng.integers(0, K, size=N)
    X = centres[z] + rng.normal(size=(N, D))
    mu0 = X[rng.choice(N, size=K, replace=False)]
    Sigma0 = np.stack([np.cov(X.T, bias=True).reshape(D, D)] * K)
    pi0 = np.full(K, 1.0 / K)
    return X, mu0, Sigma0, pi0


def _sklearn_model(mu0, Sigma0, pi0, n_iter: int) -> GaussianMixture:
    return GaussianMixture(n_components=len(pi0), covariance_type="full", max_iter=n_iter, tol=0.0,
                           reg_covar=0.0, n_init=1, init_params="random", weights_init=pi0, means_init=mu0,
                           precisions_init=np.linalg.inv(Sigma0))


def em_scaling(sizes=(10_000, 100_000, 1_000_000), dims=(2, 10), K: int = 3, n_iter: int = 5,
               runs: int = 3, blas_threads=(1, None)) -> list[ScalingRow]:
    """One row per (BLAS threads, D, N): time per iteration (median of ``runs``), peak
    memory, ℓ agreement. ``blas_threads``: None for BLAS's default (every core)."""
    rows = []
    for threads in blas_threads:
        with threadpool_limits(limits=threads, user_api="blas"):
            for D in dims:
                for N in sizes:
                    rows.append(_row(N, D, K, n_iter, runs, threads or os.cpu_count() or 1))
    return rows


def _row(N: int, D: int, K: int, n_iter: int, runs: int, threads: int) -> ScalingRow:
    X, mu0, Sigma0, pi0 = _problem(N, D, K)

    def ours():
        return ref.fit_em(X, mu0, Sigma0, pi0, n_iter=n_iter)

    def theirs():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return _sklearn_model(mu0, Sigma0, pi0, n_iter).fit(X)

    t_ours, t_sk = time_runs(ours, runs, warmup=1), time_runs(theirs, runs, warmup=1)
    (mu, Sigma, pi), history = ours()
    ll_ours = history[-1]
    ll_sk = float(theirs().score(X) * N)
    return ScalingRow(N, D, K, threads, n_iter,
                      Timing(*(v / n_iter for v in (t_ours.median, t_ours.low, t_ours.high)), runs),
                      Timing(*(v / n_iter for v in (t_sk.median, t_sk.low, t_sk.high)), runs),
                      peak_memory_mib(ours), peak_memory_mib(theirs),
                      abs(ll_ours - ll_sk) / abs(ll_sk))
