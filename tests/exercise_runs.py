"""Run an exercise's solution notebook, hidden tests included, with some answer cells replaced by a mistake.

Each graded test cell scores its points unless it raises (nbgrader's rule); its message is the error's. The cells run
top to bottom in one namespace in this process, as ``make check`` runs them in one kernel: fast enough to grade
dozens of mistaken submissions in a test.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import nbformat
from IPython.core.inputtransformer2 import TransformerManager

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Result:
    points: float
    max_points: float
    message: str  # "" when the cell passed


def solution(name: str) -> nbformat.NotebookNode:
    return nbformat.read(ROOT / "solutions" / name / f"{name}.ipynb", as_version=4)


def answer_source(nb: nbformat.NotebookNode, grade_id: str) -> str:
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            return cell.source
    raise KeyError(grade_id)


def with_answers(nb: nbformat.NotebookNode, replaced: dict[str, str]) -> nbformat.NotebookNode:
    """A copy of ``nb`` whose answer cells named in ``replaced`` hold the given source."""
    nb = nbformat.from_dict(nb)
    unknown = set(replaced)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in replaced:
            cell.source = replaced[grade_id]
            unknown.discard(grade_id)
    assert not unknown, f"no answer cells {unknown}"
    return nb


def grade(nb: nbformat.NotebookNode) -> dict[str, Result]:
    """Run every code cell in order; the result of each graded test cell, by grade_id."""
    namespace: dict = {"__name__": "__main__"}
    results = {}
    transform = TransformerManager().transform_cell
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        meta = cell.metadata.get("nbgrader", {})
        message = ""
        try:
            with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
                warnings.simplefilter("ignore")
                exec(compile(transform(cell.source), meta.get("grade_id", "cell"), "exec"), namespace)
        except Exception as error:  # a student's error of any kind fails the cell
            message = f"{type(error).__name__}: {error}"
        if meta.get("grade") and not meta.get("solution"):
            points = float(meta.get("points", 0))
            results[meta["grade_id"]] = Result(0.0 if message else points, points, message)
    return results
