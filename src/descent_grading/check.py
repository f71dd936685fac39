"""``make check NOTEBOOK=path``: a student runs their notebook's visible tests and sees each part's result.

It grades the notebook as the instructor's grader does (the student's cells in their own process, the tests beside
it, the assignment's withheld ``descent`` functions raising), but on the student's machine, without a sandbox, and
with the tests the student can see; the hidden tests run only when the instructor grades.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import descent

from .course import cell_timeout, load_config
from .plan import SourceCell, kind_of, read_submission
from .process import StudentProcess
from .run import NOTEBOOK_BUDGET, Job, grade_notebook
from .sandbox import Sandbox
from .withhold import build_view, withheld_names

HIDDEN_TAG = "hidden-tests"  # a test cell whose hidden part the student's copy does not have


def check(path: Path, root: Path | None = None, stream=sys.stdout) -> int:
    """Print one line per test cell; return the number of failing parts (0: every visible test passes)."""
    try:
        nb = read_submission(path)
        withheld = tuple(withheld_names(nb))
    except (ValueError, OSError) as error:
        stream.write(f"{path}: {error}\n")
        return 1
    timeout = cell_timeout(load_config(root)) if root and (root / "nbgrader_config.py").exists() else 60
    truth, hidden = [], set()
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if "grade_id" in meta:
            truth.append(SourceCell(meta["grade_id"], kind_of(meta), cell.cell_type, cell.source, cell.source,
                                    meta.get("points")))
            if HIDDEN_TAG in cell.get("metadata", {}).get("tags", []):
                hidden.add(meta["grade_id"])
    with tempfile.TemporaryDirectory() as work:
        view = str(build_view(Path(descent.__file__).parent, list(withheld), path.parent.name, Path(work)))
        job = Job("you", path.parent.name, path.stem, str(path), None, tuple(truth), withheld, view, timeout)
        result = grade_notebook(job, StudentProcess(Sandbox("none"), 0, view, NOTEBOOK_BUDGET * timeout + 60))
    if result.failure:
        stream.write(f"{path.name}: could not run it: {result.failure}\n")
        return 1
    stream.write(f"{path.name}: visible tests\n")
    width = max((len(test.name) for test in result.tests), default=0)
    for test in result.tests:
        mark, points = ("✓" if test.passed else "✗"), f"{test.points:g} point{'s' * (test.points != 1)}"
        said = ("visible part passed; hidden part runs when graded" if test.name in hidden else "") \
            if test.passed else test.message
        stream.write(f"  {mark} {test.name:<{width}}  {points:<9}  {said}".rstrip() + "\n")
    for notice in result.notices:
        stream.write(f"  note: {notice}\n")
    for name in result.withheld:
        stream.write(f"  note: your answers use {name}, which is not available when your notebook is graded\n")
    failing = sum(not test.passed for test in result.tests)
    stream.write(f"{len(result.tests) - failing} of {len(result.tests)} parts pass their visible tests "
                 "(hidden tests run when your instructor grades).\n")
    return failing
