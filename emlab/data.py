"""Course data, loaded with checks that say plainly what is wrong.

The data files ship in the repository's ``data/`` folder (see ``data/PROVENANCE.md``);
nothing is downloaded. Set the environment variable ``EMLAB_DATA`` to use a copy
elsewhere.
"""

from __future__ import annotations

import csv
import hashlib
import os
from pathlib import Path

import numpy as np

__all__ = ["DataFileError", "data_dir", "load_faithful", "standardise", "FAITHFUL_COLUMNS"]

FAITHFUL_COLUMNS = ("eruptions", "waiting")
FAITHFUL_ROWS = 272
FAITHFUL_SHA256 = "d40b983752ab7ec0b15b740089c3ca7b7b59d0c7433a029a1714d134de1e8d14"
FAITHFUL_UNITS = {"eruptions": "minutes", "waiting": "minutes"}


class DataFileError(RuntimeError):
    """A course data file is missing, altered or malformed."""


def data_dir() -> Path:
    """The folder holding the course data: ``$EMLAB_DATA`` if set, else ``<repo>/data``."""
    env = os.environ.get("EMLAB_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent / "data"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_faithful(path: str | os.PathLike | None = None, *, verify: bool = True) -> np.ndarray:
    """Load the Old Faithful eruptions (R's ``datasets::faithful``).

    Parameters
    ----------
    path : path-like, optional
        The CSV file; by default ``faithful.csv`` in :func:`data_dir`.
    verify : bool
        Check the file's SHA-256 against the published copy (default). Rows, columns
        and values are checked whatever this says.

    Returns
    -------
    X : ndarray of shape (272, 2), float64
        Column 0 is the eruption time, column 1 the waiting time to the next
        eruption, both in minutes.

    Raises
    ------
    DataFileError
        If the file is missing, has the wrong header, row count or non-numeric values,
        or (with ``verify``) differs from the published copy.
    """
    path = Path(path) if path is not None else data_dir() / "faithful.csv"
    if not path.is_file():
        raise DataFileError(
            f"The Old Faithful data file is missing: {path}. It ships with the course in "
            "data/faithful.csv; restore it from the course repository (or set EMLAB_DATA "
            "to the folder that holds it)."
        )
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    if not rows:
        raise DataFileError(f"{path} is empty; expected a header and {FAITHFUL_ROWS} rows.")
    header = tuple(c.strip() for c in rows[0])
    if header != FAITHFUL_COLUMNS:
        raise DataFileError(
            f"{path} has columns {list(header)}; expected {list(FAITHFUL_COLUMNS)}."
        )
    body = [r for r in rows[1:] if any(c.strip() for c in r)]
    if len(body) != FAITHFUL_ROWS:
        raise DataFileError(f"{path} has {len(body)} data rows; expected {FAITHFUL_ROWS}.")
    values = np.empty((FAITHFUL_ROWS, 2))
    for i, row in enumerate(body):
        if len(row) != 2:
            raise DataFileError(f"{path}, data row {i + 1}: {len(row)} fields; expected 2.")
        try:
            values[i] = [float(c) for c in row]
        except ValueError:
            raise DataFileError(
                f"{path}, data row {i + 1}: {row} is not two numbers."
            ) from None
    if not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise DataFileError(f"{path} holds non-positive or non-finite durations.")
    if verify:
        digest = _sha256(path)
        if digest != FAITHFUL_SHA256:
            raise DataFileError(
                f"{path} differs from the published Old Faithful data (sha256 {digest[:12]}..., "
                f"expected {FAITHFUL_SHA256[:12]}...). Restore data/faithful.csv from the "
                "course repository, or pass verify=False to use an edited copy on purpose."
            )
    return values


def standardise(X: np.ndarray) -> np.ndarray:
    """Centre each column and divide by its standard deviation (numpy's default, ddof=0).

    Parameters
    ----------
    X : ndarray of shape (N, D)

    Returns
    -------
    Z : ndarray of shape (N, D), each column with mean 0 and standard deviation 1.
    """
    X = np.asarray(X, dtype=float)
    return (X - X.mean(axis=0)) / X.std(axis=0)
