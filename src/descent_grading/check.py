"""``make check NOTEBOOK=path``: a student runs their notebook's visible tests and sees each part's result.

It runs the notebook as it is, on the student's machine, with the tests they can see; the hidden tests run only
when the instructor grades.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from . import grade
from . import sandbox as sandboxes
from .course import cell_timeout, load_config


def check(path: Path, root: Path | None = None, stream=sys.stdout) -> int:
    """Print one line per test cell; return the number of failing parts (0: every visible test passes)."""
    try:
        nb = grade.read_submission(str(path))
    except (ValueError, OSError) as error:
        stream.write(f"{path}: {error}\n")
        return 1
    timeout = cell_timeout(load_config(root)) if root and (root / "nbgrader_config.py").exists() else 60
    truth = []
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if "grade_id" in meta:
            truth.append(grade.SourceCell(meta["grade_id"], grade.kind_of(meta), cell.cell_type, cell.source,
                                          cell.source, meta.get("points")))
    cells, _ = grade.reconcile(nb, tuple(truth))
    with tempfile.TemporaryDirectory() as homes:
        job = grade.Job("you", path.parent.name, path.stem, str(path), None, tuple(truth), timeout,
                        sandboxes.Sandbox("none"), homes)
        kernels = grade.Kernels(job.sandbox, 0, homes, guard=False, prefetch=False)
        try:
            executed, stopped, _ = grade.execute(cells, job, kernels)
        finally:
            kernels.close()
    tests = grade.score(cells, executed, stopped)
    stream.write(f"{path.name}: visible tests\n")
    width = max((len(test["name"]) for test in tests), default=0)
    for test in tests:
        passed = test["score"] == test["max_score"]
        mark, points = ("✓" if passed else "✗"), f"{test['max_score']:g} point{'s' * (test['max_score'] != 1)}"
        line = f"  {mark} {test['name']:<{width}}  {points:<9}" + ("" if passed else f"  {test['message']}")
        stream.write(line.rstrip() + "\n")
    failing = sum(test["score"] < test["max_score"] for test in tests)
    stream.write(f"{len(tests) - failing} of {len(tests)} parts pass their visible tests"
                 + (f"; {stopped}" if stopped else "") + " (hidden tests run when your instructor grades).\n")
    return failing
