"""The grader's file access (autograder/emlab_judge/safe_fs.py): no link followed, no special
file opened, every read bounded; checked on the files themselves, from outside."""

from __future__ import annotations

import os

import pytest

from emlab_judge.safe_fs import MiB, UnsafeFile, copy_submission, read_regular, write_atomic


@pytest.fixture
def tree(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("the solution")
    secret.chmod(0o600)
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "data.csv").write_text("1,2\n")
    (sub / "nested").mkdir()
    (sub / "nested" / "more.txt").write_text("more")
    os.symlink(secret, sub / "sol.txt")
    os.symlink("/proc/self/environ", sub / "env.txt")
    os.symlink(tmp_path, sub / "up")
    os.mkfifo(sub / "pipe")
    os.link(secret, sub / "hard.txt")
    (sub / "big.bin").write_bytes(b"x" * (2 * MiB))
    return tmp_path, sub, secret


def test_read_regular_refuses_every_kind_of_link_and_special_file(tree):
    _, sub, _ = tree
    assert read_regular(sub / "data.csv", MiB) == b"1,2\n"
    for name, why in [("sol.txt", "symbolic link"), ("env.txt", "symbolic link"), ("pipe", "FIFO"),
                      ("nested", "directory"), ("hard.txt", "hard link"), ("big.bin", "limit"),
                      ("missing.txt", "missing")]:
        with pytest.raises(UnsafeFile, match=why):
            read_regular(sub / name, MiB)


def test_copy_submission_copies_regular_files_and_folders_only(tree, tmp_path):
    _, sub, secret = tree
    dest = tmp_path / "dest"
    report = copy_submission(sub, dest, max_file=MiB)
    assert sorted(report.copied) == ["data.csv", "nested/more.txt"]
    refused = " | ".join(report.refused)
    for name in ("sol.txt", "env.txt", "up", "pipe", "hard.txt", "big.bin"):
        assert name in refused, (name, refused)
    copied = {os.path.relpath(os.path.join(d, f), dest) for d, _, files in os.walk(dest) for f in files}
    assert copied == {"data.csv", os.path.join("nested", "more.txt")}
    assert not any(os.path.islink(os.path.join(d, f)) for d, ds, fs in os.walk(dest) for f in fs + ds)
    assert secret.read_text() == "the solution" and (secret.stat().st_mode & 0o777) == 0o600


def test_write_atomic_replaces_a_planted_link_and_never_writes_through_it(tree):
    root, _, secret = tree
    folder = root / "graded"
    folder.mkdir()
    os.symlink(secret, folder / "judge.json")
    write_atomic(folder, "judge.json", "{}")
    assert not os.path.islink(folder / "judge.json") and (folder / "judge.json").read_text() == "{}"
    assert secret.read_text() == "the solution" and (secret.stat().st_mode & 0o777) == 0o600
    os.symlink(root / "sub", root / "linked")
    with pytest.raises(UnsafeFile):
        write_atomic(root / "linked", "x.json", "{}")  # a folder that is a link is refused
    assert not (root / "sub" / "x.json").exists()
    with pytest.raises(ValueError):
        write_atomic(folder, "../escape.json", "{}")
