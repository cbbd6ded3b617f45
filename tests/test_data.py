"""The Old Faithful data ship in data/ and the loader says plainly what is wrong."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from conftest import REPO
from emlab.data import DataFileError, load_faithful, standardise


def test_faithful_matches_provenance():
    X = load_faithful()
    assert X.shape == (272, 2)
    np.testing.assert_allclose(X.mean(axis=0), [3.48778, 70.89706], atol=5e-6)
    np.testing.assert_allclose(X.std(axis=0, ddof=1), [1.14137, 13.59497], atol=5e-6)
    assert np.corrcoef(X.T)[0, 1] == pytest.approx(0.9008, abs=5e-5)
    assert "d40b983752ab7ec0b15b740089c3ca7b7b59d0c7433a029a1714d134de1e8d14" in (
        REPO / "data" / "PROVENANCE.md").read_text()


def test_standardise():
    Z = standardise(load_faithful())
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(Z.std(axis=0), 1, atol=1e-12)


@pytest.fixture
def copy(tmp_path):
    dest = tmp_path / "faithful.csv"
    shutil.copy(REPO / "data" / "faithful.csv", dest)
    return dest


def test_missing_file(tmp_path):
    with pytest.raises(DataFileError, match="missing.*faithful.csv"):
        load_faithful(tmp_path / "faithful.csv")


def test_env_var_points_elsewhere(tmp_path, monkeypatch):
    monkeypatch.setenv("EMLAB_DATA", str(tmp_path))
    with pytest.raises(DataFileError, match="missing"):
        load_faithful()


def test_altered_value_fails_checksum(copy):
    copy.write_text(copy.read_text().replace("3.6,79", "3.6,80", 1))
    with pytest.raises(DataFileError, match="differs from the published"):
        load_faithful(copy)
    assert load_faithful(copy, verify=False)[0, 1] == 80


def test_wrong_header(copy):
    copy.write_text(copy.read_text().replace("eruptions,waiting", "duration,wait", 1))
    with pytest.raises(DataFileError, match=r"columns \['duration', 'wait'\]"):
        load_faithful(copy)


def test_truncated(copy):
    lines = copy.read_text().splitlines()
    copy.write_text("\n".join(lines[:100]) + "\n")
    with pytest.raises(DataFileError, match="99 data rows; expected 272"):
        load_faithful(copy)


def test_not_numbers(copy):
    copy.write_text(copy.read_text().replace("3.6,79", "3.6,abc", 1))
    with pytest.raises(DataFileError, match="row 1.*not two numbers"):
        load_faithful(copy)
