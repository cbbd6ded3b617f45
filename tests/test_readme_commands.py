"""Every command the README shows outside ``make`` works as written, from the repository root,
in a plain shell: no JUPYTER_CONFIG_PATH, PYTHONPATH or PATH set by anyone, a fresh HOME.
The commands are read from the README itself (each ``.venv/bin/...`` in a code span or block),
run in order in a copy of the course, and each must exit 0; afterwards nothing was created
outside the course folder and the fresh HOME (no gradebook in the repository root, no
system-wide exchange). A command the test does not know how to fill in fails the test."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import REPO

VENV = REPO / ".venv"
# placeholders of the README, and what this test fills in
FILL = {"<id>": "01-two-means", "K/N": "1/1"}
# generic forms (alternatives, placeholders for any command, the program's bare name): shown to
# explain, not to run
GENERIC = re.compile(r"<command>|\[args\]|\w\|\w|^\S+$")
# the order a course meets them in (commands not listed run after these, in README order)
ORDER = ["env", "trusted-kernel", "db student import", "db assignment add", "db assignment list",
         "release_assignment", "collect", "autograde", "release_feedback", "lms-export"]
SYSTEM_EXCHANGE = Path("/usr/local/share/nbgrader")


def readme_commands() -> list[str]:
    """Every ``.venv/bin/...`` command of the README outside its *A course week* block (which
    tests/test_term.py runs, week by week, with students in between)."""
    text = re.sub(r"## A course week.*?```bash\n.*?```", "", (REPO / "README.md").read_text(), flags=re.S)
    spans = re.findall(r"`(\.venv/bin/[^`]+)`", text)
    blocks = [line.strip() for block in re.findall(r"```[a-z]*\n(.*?)```", text, re.S)
              for line in block.splitlines() if line.strip().startswith(".venv/bin/")]
    found = []
    for command in spans + blocks:
        if not GENERIC.search(command) and command not in found:
            found.append(command)
    return found


def _order(command: str) -> int:
    words = command.split(maxsplit=1)[1] if " " in command else ""
    return next((i for i, key in enumerate(ORDER) if words.removeprefix("nbgrader ").startswith(key)), len(ORDER))


def _fill(command: str) -> str:
    for placeholder, value in FILL.items():
        command = command.replace(placeholder, value)
    leftover = re.findall(r"<[\w-]+>", command)
    assert not leftover, f"the README command {command!r} has a placeholder this test cannot fill: {leftover}"
    return command


def _copy_course(dest: Path) -> None:
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        src = REPO / name
        if src.is_file() and not name.startswith(("tests/", "test-artifacts/", "bench/")):
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    os.symlink(VENV, dest / ".venv")


@pytest.mark.skipif(not (VENV / "bin" / "emlab-grade").exists(), reason="no .venv/bin/emlab-grade: run make venv")
def test_every_readme_command_works_in_a_plain_shell(tmp_path):
    commands = sorted(readme_commands(), key=_order)
    assert any("emlab-grade nbgrader" in c for c in commands), commands
    course, home = tmp_path / "course", tmp_path / "home"
    home.mkdir()
    _copy_course(course)
    (course / "roster.csv").write_text("id,first_name,last_name,email\nada,Ada,Lovelace,ada@example.org\n")
    before = set(os.listdir(course))
    system_exchange_before = SYSTEM_EXCHANGE.exists()
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    for command in commands:
        done = subprocess.run(["bash", "-c", _fill(command)], cwd=course, env=env, capture_output=True, text=True,
                              timeout=600)
        assert done.returncode == 0, f"{command!r} failed in a plain shell:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    created = set(os.listdir(course)) - before
    assert created <= {"canvas.csv", "moodle.csv"}, f"README commands created {created} in the repository root"
    assert (course / "autograder" / "gradebook.db").is_file()
    assert SYSTEM_EXCHANGE.exists() == system_exchange_before, "a README command made nbgrader's system-wide exchange"
    listed = subprocess.run(["bash", "-c", ".venv/bin/emlab-grade nbgrader db student list"], cwd=course, env=env,
                            capture_output=True, text=True, timeout=300)
    assert "ada" in listed.stdout + listed.stderr

