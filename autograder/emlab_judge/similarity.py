"""Pairs of students whose answers are unusually similar: hints for a human, never a penalty.

One job: for each lab, the code of every student's answer cells (the autograded notebook's
nbgrader solution cells), fingerprinted by copydetect (tokenised with Pygments, so names,
comments and whitespace do not count; winnowed k-grams), compared pair by pair. What every
student may share is left out of the comparison as boilerplate: the release's own code (the
stubs students start from) and the model answer (a correct answer written the obvious way
looks like it without being copied). A pair is reported when each answer shares at least
``threshold`` of its (non-boilerplate) tokens with the other and both have at least
``min_tokens`` tokens left: short answers say nothing.

Reads the autograded notebooks (nbgrader's output, written from the student's file) within
bounds, as data; runs nothing.
"""

from __future__ import annotations

import io
import itertools
import json
from dataclasses import dataclass
from pathlib import Path

from .course import Course
from .safe_fs import MiB, read_regular

__all__ = ["SimilarPair", "similar_pairs", "answer_code", "K_GRAM", "WINDOW", "THRESHOLD", "MIN_TOKENS",
           "MAX_CODE"]

K_GRAM = 25        # tokens per fingerprint (copydetect's noise threshold)
WINDOW = 1         # winnowing window (1: every k-gram)
THRESHOLD = 0.6    # share of each answer's tokens found in the other
MIN_TOKENS = 60    # answers with fewer comparable tokens are not compared
MAX_NOTEBOOK = 64 * MiB
MAX_CODE = 64_000  # characters of one student's answers compared (copydetect keeps ~400 bytes a character)


@dataclass(frozen=True)
class SimilarPair:
    """Two students' answers to one lab: the share of each one's tokens found in the other."""

    assignment: str
    first: str
    second: str
    first_share: float
    second_share: float

    @property
    def share(self) -> float:
        return min(self.first_share, self.second_share)


def answer_code(nb: dict) -> str:
    """The code of a notebook's nbgrader answer (solution) cells, in order, magics left out."""
    parts = []
    for cell in nb.get("cells", []):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if not (isinstance(meta, dict) and meta.get("solution")):
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        parts.append("\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))))
    return "\n\n".join(parts) + "\n"


def _read(path: Path) -> dict | None:
    try:
        nb = json.loads(read_regular(path, MAX_NOTEBOOK))
        return nb if isinstance(nb, dict) else None
    except (OSError, ValueError):
        return None


def _fingerprint(code: str, boilerplate):
    from copydetect import CodeFingerprint

    return CodeFingerprint("answers.py", K_GRAM, WINDOW, boilerplate=boilerplate, fp=io.StringIO(code))


def _boilerplate(course: Course, assignment: str) -> list:
    """The fingerprints every student may share: the release's code and the model answer."""
    hashes = set()
    for source in course.source_notebooks(assignment):
        for path in (source, course.release_notebook(assignment, source.name)):
            nb = _read(path)
            if nb is not None:
                hashes |= _fingerprint(answer_code(nb), []).hashes
    return sorted(hashes)


def similar_pairs(course: Course, assignment: str, *, threshold: float = THRESHOLD, min_tokens: int = MIN_TOKENS,
                  notes: list[str] | None = None) -> list[SimilarPair]:
    """The pairs of students of ``assignment`` whose answers share at least ``threshold`` of
    their tokens both ways, most similar first. ``notes`` (a list) receives a line for each
    student left out or cut short (an unreadable notebook, answers over MAX_CODE characters).

    Memory stays bounded: each student's fingerprint is reduced to its set of hashes, pairs
    sharing too few of them are never compared, and the few that might be similar are
    fingerprinted again for copydetect's comparison."""
    from copydetect import compare_files

    notes = [] if notes is None else notes
    boilerplate = _boilerplate(course, assignment)
    codes, hashes = {}, {}
    for student in course.graded_students(assignment):
        code = ""
        for source in course.source_notebooks(assignment):
            nb = _read(course.autograded / student / assignment / source.name)
            if nb is None:
                notes.append(f"{student}: {source.name} could not be read (missing, not a notebook, or over "
                             f"{MAX_NOTEBOOK // MiB} MiB): not compared")
                code = ""
                break
            code += answer_code(nb)
        if len(code) > MAX_CODE:
            notes.append(f"{student}: answers of {len(code):,} characters, compared on their first {MAX_CODE:,}")
            code = code[:MAX_CODE]
        if not code.strip():
            continue
        fingerprint = _fingerprint(code, boilerplate)
        if fingerprint.token_coverage >= min_tokens:
            codes[student], hashes[student] = code, frozenset(fingerprint.hashes)
    pairs = []
    for first, second in itertools.combinations(sorted(codes), 2):
        shared = len(hashes[first] & hashes[second])
        if shared < threshold * min(len(hashes[first]), len(hashes[second])) / 2:
            continue   # too few shared k-grams for the overlap to reach the threshold
        _, (share1, share2), _ = compare_files(_fingerprint(codes[first], boilerplate),
                                               _fingerprint(codes[second], boilerplate))
        if min(share1, share2) >= threshold:
            pairs.append(SimilarPair(assignment, first, second, round(float(share1), 3), round(float(share2), 3)))
    return sorted(pairs, key=lambda p: (-p.share, p.first, p.second))
