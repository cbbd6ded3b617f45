"""The sections of ``make bench``: each measures one thing against its alternative and
returns a Markdown table. SECTIONS maps a section's name to its function
``(root, quick, figure_dir) -> markdown``.
"""

from __future__ import annotations

from pathlib import Path

from . import em_scaling, notebooks

__all__ = ["SECTIONS"]


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in rows]
    return "\n".join(lines)


def notebooks_section(root: Path, quick: bool, figure_dir: Path) -> str:
    rows = notebooks.notebook_times(root, runs=1 if quick else 3)
    total = sum(r.timing.median for r in rows)
    body = [[r.notebook, r.timing.fmt(), "yes" if r.within_target else "**no**"] for r in rows]
    body.append(["**all labs**", f"{total:.3g} s", "yes" if total < notebooks.SET_TARGET_S else "**no**"])
    return ("## Source notebooks, fresh kernel (nbclient)\n\n"
            f"Target: each lab under {notebooks.LAB_TARGET_S:g} s, the set under {notebooks.SET_TARGET_S:g} s.\n\n"
            + _table(["notebook", "time (kernel start included)", "within target"], body) + "\n")


def em_section(root: Path, quick: bool, figure_dir: Path) -> str:
    sizes = (2_000, 20_000) if quick else (10_000, 100_000, 1_000_000)
    rows = em_scaling.em_scaling(sizes=sizes, runs=1 if quick else 3)
    body = [[r.blas_threads, f"{r.N:,}", r.D, r.K, r.ours.fmt(1e3, "ms"), r.sklearn.fmt(1e3, "ms"),
             f"{r.ratio:.2f}", f"{r.ours_mib:.0f}", f"{r.sklearn_mib:.0f}", f"{r.rel_loglik_diff:.1e}"] for r in rows]
    figure = _scaling_figure([r for r in rows if r.blas_threads == 1], figure_dir / "scaling.png")
    return ("## Reference EM against scikit-learn's GaussianMixture\n\n"
            f"Full covariances, the same start, {rows[0].n_iter} iterations, no early stop. Time per iteration; "
            "ratio = ours / scikit-learn's (below 1: the reference is faster; target ≤ 1). Peak memory of one fit "
            "(tracemalloc, NumPy buffers). ℓ: relative difference of the final log-likelihoods (target ≤ 1e-8). "
            "Both use the same BLAS with the same threads: one (as grading kernels and tests run), then every "
            "core (BLAS's default). With threads, scikit-learn alternates SciPy's OpenBLAS (its Cholesky "
            "factors) and NumPy's (the products), whose thread pools then take turns spinning; the reference "
            "keeps to NumPy's.\n\n"
            + _table(["BLAS threads", "N", "D", "K", "reference", "scikit-learn", "ratio", "ref MiB", "sklearn MiB",
                      "ℓ rel. diff"], body) + f"\n\n![time per iteration against N]({figure.name})\n")


def _scaling_figure(rows, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4.5), constrained_layout=True)
    for D, marker in zip(sorted({r.D for r in rows}), "os^"):
        mine = [r for r in rows if r.D == D]
        N = [r.N for r in mine]
        ax.loglog(N, [r.ours.median * 1e3 for r in mine], marker=marker, label=f"reference EM, D = {D}")
        ax.loglog(N, [r.sklearn.median * 1e3 for r in mine], marker=marker, linestyle="--",
                  label=f"scikit-learn, D = {D}")
    ax.set_xlabel("number of points N")
    ax.set_ylabel("time per EM iteration (ms)")
    ax.set_title(f"EM cost grows linearly with N (K = {rows[0].K}, full covariances)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=9)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def optimisers_section(root: Path, quick: bool, figure_dir: Path) -> str:
    """Lab 04: gradient ascent, EM and deterministic annealing from the same starts."""
    import statistics

    from emlab.saddle_point import optimiser_race
    from emlab_judge import reference_saddle_point as ref

    starts = [(0.01, 2.0), (0.1, 1.5), (0.3, 1.2), (0.05, 0.8)] if not quick else [(0.1, 1.5)]
    runs = 1 if quick else 3
    trials = [optimiser_race(starts, 1e-8, grad_ll=ref.grad_ll, anneal=ref.anneal) for _ in range(runs)]
    body = []
    for i, row in enumerate(trials[0]):
        seconds = [trial[i]["seconds"] for trial in trials]
        iterations = row["iterations"] if row["reached"] else f"not reached ({row['stopped']})"
        body.append([f"({row['start'][0]:g}, {row['start'][1]:g})", row["method"], iterations, row["near_saddle"],
                     f"{statistics.median(seconds) * 1e3:.3g} ms ({min(seconds) * 1e3:.3g}-{max(seconds) * 1e3:.3g})"])
    return ("## Lab 04: optimisers from the same starts (ℓ of the ±1 data)\n\n"
            "Iterations until |μ| ≥ 0.95 (annealing: updates of μ), iterations spent within 0.1 of the saddle "
            "(0, 1), and wall time (tolerance 1e-8, cap 20,000 iterations).\n\n"
            + _table(["start (μ, σ)", "method", "iterations to the optimum", "near the saddle", "time"], body) + "\n")


def grading_section(root: Path, quick: bool, figure_dir: Path) -> str:
    """Grading throughput: stock nbgrader against the harness (sandbox on with warm and with
    cold kernels, sandbox off)."""
    import os
    import tempfile

    from . import grading

    autograder = str(root / "autograder")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in [autograder, os.environ.get("PYTHONPATH")] if p)
    from emlab_judge.batch import default_jobs

    n, jobs = (6, 2) if quick else (40, default_jobs())
    with tempfile.TemporaryDirectory(prefix="emlab-bench-") as tmp:
        rows, floor = grading.grading_throughput(Path(tmp), n=n, jobs=jobs)
    stock = rows[0]
    body = []
    for row in rows:
        spread = (f"{grading.median(row.per_submission):.3g} s ({min(row.per_submission):.3g}-"
                  f"{max(row.per_submission):.3g})" if row.per_submission else "-")
        body.append([row.grader, row.submissions, f"{row.wall_seconds:.0f} s", f"{row.per_minute:.1f}",
                     f"{row.per_minute / stock.per_minute:.2f}", spread])
    exec_floor = grading.median(floor)
    sandboxed = rows[1]
    overhead = grading.median(sandboxed.per_submission) - exec_floor
    phases = sandboxed.phases or {}
    per_phase = {name: grading.median(values) for name, values in phases.items()}

    def share(name: str) -> str:
        return f"{per_phase.get(name, float('nan')):.2f} s"

    kernel_work = per_phase.get("execute", float("nan")) - per_phase.get("kernel_start", float("nan"))
    nbgrader_own = (per_phase.get("nbgrader", float("nan")) - per_phase.get("execute", float("nan"))
                    - per_phase.get("judge", float("nan")))
    where = _table(["phase (sandbox on, warm kernels, median of the graded submissions)", "seconds"], [
        ["staging: copy through no link, preflight, tamper scan", share("stage")],
        ["kernel start in the sandbox (control group, bubblewrap, the kernel forked into it, IPython)",
         share("kernel_start")],
        ["the notebook's cells (figures included)", f"{kernel_work:.2f} s"],
        ["the judge (hidden cases against the reference, in memory)", share("judge")],
        ["nbgrader's own work in its process (fork, configuration, gradebook, pre- and post-processing)",
         f"{nbgrader_own:.2f} s"],
        ["verdicts: reasons and flags written", share("verdicts")],
    ]) if phases else ""
    return ("## Grading throughput: a batch of lab-03 submissions\n\n"
            f"{n} submissions (the model answer, correct and buggy implementations, a kernel that dies, a malformed "
            "file), each run in a fresh copy of the course. Ratio = submissions per minute over stock nbgrader's "
            f"(target with the sandbox on: at least 1.8 on 2 cores). The harness runs `make autograde`'s default "
            f"of {jobs} slots (one per core). Warm kernels are forked into each submission's sandbox from a "
            "server that imported the scientific stack once (`emlab_judge/kernel_forkserver.py`); cold ones "
            "start a fresh interpreter, as stock nbgrader does. Without the sandbox kernels always start "
            "cold (a warm kernel is only ever forked into a sandbox).\n\n"
            + _table(["grader", "submissions", "wall time", "per minute", "ratio to stock",
                      "seconds per submission (median, min-max)"], body)
            + f"\n\nExecuting the same notebook (the model answer) in a kernel already running: "
              f"{exec_floor:.3g} s (median of {len(floor)}). The harness's overhead per submission over that, "
              f"sandbox on: {overhead:.3g} s (kernel start, sandbox, nbgrader's pre- and post-processing, the "
              "judge, gradebook writes).\n"
            + (f"\nWhere a submission's time goes:\n\n{where}\n" if where else ""))


SECTIONS = {
    "notebooks": notebooks_section,
    "grading": grading_section,
    "em": em_section,
    "optimisers": optimisers_section,
}
