"""``make student-bundle``: the zip students get, and nothing more.

Holds the release notebooks (``notebooks/``), the data with its provenance, the helper
package ``emlab/``, the environment files (``requirements.lock``, ``environment.yml``,
``pyproject.toml``) and a student README. Never ``solutions/``, ``autograder/`` or
``tests/``. Notebook outputs are stripped. Refuses to write a bundle in which
:func:`leaks` finds a solution, a hidden test, a grading call or a model answer.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INCLUDE = ["notebooks", "data", "emlab", "requirements.lock", "environment.yml", "pyproject.toml"]
SKIP = re.compile(r"(__pycache__|\.ipynb_checkpoints|\.pyc$|\.egg-info)")
SECRET = re.compile(r"BEGIN SOLUTION|END SOLUTION|BEGIN HIDDEN TESTS|END HIDDEN TESTS|BEGIN MARK SCHEME|"
                    r"emlab_grader|emlab_judge|nbgrader_config|application/vnd\.emlab\.record")


def members(root: Path = ROOT) -> list[tuple[str, bytes]]:
    """(path inside the zip, content) for every file of the bundle."""
    out = [("README.md", (root / "autograder" / "student" / "README.md").read_bytes())]
    for entry in INCLUDE:
        path = root / entry
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for f in files:
            rel = f.relative_to(root).as_posix()
            if SKIP.search(rel):
                continue
            data = f.read_bytes()
            if f.suffix == ".ipynb":
                nb = json.loads(data)
                for cell in nb.get("cells", []):
                    if cell.get("cell_type") == "code":
                        cell["outputs"], cell["execution_count"] = [], None
                data = (json.dumps(nb, indent=1, ensure_ascii=False) + "\n").encode()
            out.append((rel, data))
    return out


def leaks(files: list[tuple[str, bytes]], root: Path = ROOT) -> list[str]:
    """What in ``files`` students must not see: markers, grading code, solution lines."""
    found = []
    solution_lines, graded = set(), set()
    for src in (root / "solutions").glob("*/*.ipynb"):
        for cell in json.loads(src.read_text()).get("cells", []):
            text = "".join(cell.get("source", []))
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if meta.get("solution") and cell.get("cell_type") == "code":
                graded.add(meta.get("grade_id"))
            for block in re.findall(r"BEGIN (?:SOLUTION|HIDDEN TESTS)(.*?)### END", text, re.S):
                solution_lines |= {ln.strip() for ln in block.splitlines()
                                   if len(ln.strip()) > 20 and not ln.strip().startswith("#")}
    graded_def = re.compile(r"^\s*def (%s)\(" % "|".join(map(re.escape, sorted(g for g in graded if g))), re.M) \
        if graded else None
    for name, data in files:
        if name.startswith(("solutions/", "autograder/", "tests/")):
            found.append(f"{name}: instructor file")
            continue
        text = data.decode("utf-8", errors="replace")
        marker = SECRET.search(text)
        if marker:
            found.append(f"{name}: contains {marker.group(0)!r}")
        if name.endswith(".ipynb"):
            for line in solution_lines:
                if line in text:
                    found.append(f"{name}: contains the solution line {line!r}")
                    break
        elif graded_def is not None and graded_def.search(text):
            found.append(f"{name}: defines the graded function {graded_def.search(text).group(1)}")
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=str(ROOT / "dist" / "emlab-student.zip"))
    args = parser.parse_args(argv)
    files = members()
    problems = leaks(files)
    if problems:
        print("refusing to write the student bundle:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files:
            zf.writestr(f"emlab-student/{name}", data)
    print(f"wrote {out} ({len(files)} files, {out.stat().st_size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
