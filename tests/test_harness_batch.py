"""emlab_judge.batch.grade_folder, the function make autograde (and make bench) call: a folder
of submissions graded with the jobs and sandbox setting given, per-submission timings back;
shards that split a batch between machines; the LMS layouts."""

from __future__ import annotations

import json
import subprocess
import sys

import nbformat
import pytest

import hostile_lab03 as H
from grading_support import REPO, solution_sources, temporary_course

sys.path.insert(0, str(REPO / "autograder"))

from emlab_judge.batch import grade_folder, in_shard  # noqa: E402

NOTEBOOK = "old_faithful.ipynb"

CALL = r'''
import json, sys
from emlab_judge.batch import grade_folder
runs = []
for _ in range(2):
    run = grade_folder(sys.argv[1], submitted=sys.argv[2], jobs=2, sandbox=False, progress=False)
    runs.append({"graded": run.graded, "kept": run.kept, "wall": run.wall_seconds, "per_minute": run.per_minute,
                 "timings": {f"{s}/{a}": t for (s, a), t in run.timings().items()},
                 "results": [r.to_json() for r in run.results], "summary": run.summary()})
print(json.dumps(runs))
'''


def test_grade_folder_returns_per_submission_timings(tmp_path):
    course = temporary_course(tmp_path, [H.ASSIGNMENT])
    release = nbformat.read(course.release_notebook(H.ASSIGNMENT, NOTEBOOK), as_version=4)
    good = solution_sources(course.source_notebook(H.ASSIGNMENT, NOTEBOOK), ("e_step", "m_step", "loglik"))
    incoming = course.scratch / "incoming"  # a folder of submissions outside autograder/
    for student in ("ada", "ben"):
        dest = incoming / student / H.ASSIGNMENT / NOTEBOOK
        dest.parent.mkdir(parents=True)
        nbformat.write(H.honest(release, good), dest)
    proc = subprocess.run([sys.executable, "-c", CALL, str(course.root), str(incoming)], cwd=course.root,
                          env=course.env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    first, second = json.loads(proc.stdout.strip().splitlines()[-1])
    assert first["graded"] == 2 and first["kept"] == 0
    assert set(first["timings"]) == {f"ada/{H.ASSIGNMENT}", f"ben/{H.ASSIGNMENT}"}
    assert all(0 < t <= first["wall"] for t in first["timings"].values())
    assert first["per_minute"] == pytest.approx(120 / first["wall"], rel=1e-6)
    for result in first["results"]:
        assert result["status"] == "graded" and result["sandboxed"] is False
        assert result["score"] == sum(H.POINTS.values())
        assert any(f.startswith("UNSANDBOXED") for f in result["flags"])
    assert "UNSANDBOXED" in first["summary"]
    # graded in this course's autograder/, grades in its gradebook
    assert (course.autograder / "autograded" / "ada" / H.ASSIGNMENT / NOTEBOOK).exists()
    assert (course.autograder / "gradebook.db").exists()
    # unchanged: kept, no timing
    assert second["graded"] == 0 and second["kept"] == 2 and second["timings"] == {}


def test_sandbox_required_but_missing_is_an_error(tmp_path, monkeypatch):
    import emlab_judge.batch

    # (not EMLAB_SANDBOX=off: sandbox_status is cached for the process)
    monkeypatch.setattr(emlab_judge.batch, "sandbox_status", lambda: (False, "bwrap is not installed"))
    with pytest.raises(RuntimeError, match="sandbox cannot run"):
        grade_folder(tmp_path, sandbox=True, progress=False)


def test_shards_split_a_batch_exactly_once():
    pairs = [(f"s{i:03d}", a) for i in range(300) for a in ("01-two-means", "03-old-faithful")]
    for n in (1, 2, 3, 7):
        owners = [[k for k in range(1, n + 1) if in_shard(pair, k, n)] for pair in pairs]
        assert all(len(o) == 1 for o in owners)
        sizes = [sum(1 for o in owners if o == [k]) for k in range(1, n + 1)]
        assert min(sizes) > len(pairs) / n * 0.7  # roughly even


def test_cli_rejects_a_bad_shard():
    from emlab_judge.__main__ import parse_shard

    assert parse_shard("2/3") == (2, 3)
    for bad in ("0/3", "4/3", "x", "1-2"):
        with pytest.raises(SystemExit):
            parse_shard(bad)


def test_two_runs_on_one_machine_never_share_a_sandbox_uid():
    """The harness kills every process of a slot's uid after each submission: two runs at
    once (two shards on a node, two test files in parallel) must hold different uids."""
    code = ("import sys, time; from emlab_judge.harness import slot_uid; "
            "print([slot_uid(0), slot_uid(1), slot_uid(0)], flush=True); time.sleep(3)")
    env = {"PYTHONPATH": str(REPO / "autograder"), "PATH": "/usr/bin:/bin"}
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True)
             for _ in range(2)]
    got = [json.loads(p.stdout.readline()) for p in procs]
    for p in procs:
        p.wait(timeout=30)
    assert all(u[0] == u[2] for u in got)  # a slot keeps its uid
    assert len({uid for u in got for uid in u}) == 4, got
