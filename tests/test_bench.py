"""make bench's measuring code works (on tiny sizes: this is not a timed test; the numbers
come from `make bench`)."""

from __future__ import annotations

import os
import sys

from conftest import REPO

sys.path.insert(0, str(REPO))

from bench import em_scaling, measure  # noqa: E402


def test_reference_em_and_sklearn_reach_the_same_loglik():
    rows = em_scaling.em_scaling(sizes=(500, 3_000), dims=(2, 4), n_iter=4, runs=1, blas_threads=(1, None))
    sizes = [(500, 2), (3_000, 2), (500, 4), (3_000, 4)]
    every_core = os.cpu_count() or 1
    assert [(r.blas_threads, r.N, r.D) for r in rows] == [(1, *s) for s in sizes] + [(every_core, *s) for s in sizes]
    for r in rows:
        assert r.rel_loglik_diff < 1e-8, r
        assert r.ours.median > 0 and r.sklearn.median > 0 and r.ours_mib > 0


def test_timing_reports_median_and_spread():
    calls = []
    t = measure.time_runs(lambda: calls.append(1), runs=5, warmup=2)
    assert len(calls) == 7 and t.runs == 5 and t.low <= t.median <= t.high
    assert measure.peak_memory_mib(lambda: bytearray(8 * 2 ** 20)) >= 8
