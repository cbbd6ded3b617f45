"""Timing and memory measurement shared by the benchmarks.

Every row of ``make bench`` is the median of several runs with their spread (min to max),
so one slow run on a busy machine does not decide a ratio.
"""

from __future__ import annotations

import statistics
import time
import tracemalloc
from dataclasses import dataclass
from typing import Callable

__all__ = ["Timing", "time_runs", "peak_memory_mib"]


@dataclass(frozen=True)
class Timing:
    """Seconds of ``runs`` runs: median, min and max."""

    median: float
    low: float
    high: float
    runs: int

    def fmt(self, scale: float = 1.0, unit: str = "s", digits: int = 3) -> str:
        """'1.23 s (1.20-1.30)' with values multiplied by ``scale``."""
        m, lo, hi = (v * scale for v in (self.median, self.low, self.high))
        return f"{m:.{digits}g} {unit} ({lo:.{digits}g}-{hi:.{digits}g})"


def time_runs(fn: Callable[[], object], runs: int = 3, warmup: int = 0) -> Timing:
    """Wall time of ``fn()`` over ``runs`` runs (after ``warmup`` untimed ones)."""
    for _ in range(warmup):
        fn()
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - start)
    return Timing(statistics.median(seconds), min(seconds), max(seconds), runs)


def peak_memory_mib(fn: Callable[[], object]) -> float:
    """Peak memory Python and NumPy allocate while ``fn()`` runs, in MiB (tracemalloc:
    NumPy reports its array buffers to it; BLAS workspaces are not counted)."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        fn()
        return tracemalloc.get_traced_memory()[1] / 2 ** 20
    finally:
        tracemalloc.stop()
