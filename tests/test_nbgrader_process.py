"""The harness runs each nbgrader command in a process forked from a server that has
imported nbgrader once (autograder/emlab_judge/nbgrader_process.py)."""

from __future__ import annotations

import os
from multiprocessing import forkserver

from emlab_judge import nbgrader_process


def _run(args, cwd, env, log):
    process = nbgrader_process.start(args, cwd, env, log)
    process.join(120)
    assert process.exitcode is not None, "the nbgrader process did not finish in 120 s"
    return process, log.read_text()


def test_a_command_runs_in_its_own_process_with_the_environment_given(tmp_path):
    env = {**os.environ, "JUPYTER_CONFIG_PATH": str(tmp_path)}
    process, output = _run(["--version"], tmp_path, env, tmp_path / "out.log")
    assert process.exitcode == 0, output
    assert "nbgrader version" in output
    assert process.pid != os.getpid()


def test_a_failing_command_exits_non_zero_with_its_message_in_the_log(tmp_path):
    env = {**os.environ, "JUPYTER_CONFIG_PATH": str(tmp_path)}
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\nc.CourseDirectory.root = %r\n" % str(tmp_path))
    process, output = _run(["autograde", "no-such-assignment"], tmp_path, env, tmp_path / "out.log")
    assert process.exitcode not in (0, None)
    assert "no-such-assignment" in output or "No notebooks" in output or "ERROR" in output, output


def test_stop_ends_the_fork_server_by_its_pid(tmp_path):
    _run(["--version"], tmp_path, dict(os.environ), tmp_path / "out.log")
    pid = forkserver._forkserver._forkserver_pid
    assert pid is not None
    nbgrader_process.stop()
    assert forkserver._forkserver._forkserver_pid is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        pass
    else:
        raise AssertionError(f"the fork server {pid} is still running")
