"""What to run for one submission: the instructor's cells as the gradebook holds them, with the student's answers.

``read_submission`` reads a file defensively; ``plan`` reconciles it with the assignment's source cells and returns
the steps to run, in the instructor's order, with a notice for everything it had to restore. A student can only
ever contribute the code of answer cells and of cells they added: instructor cells (read-only setup cells and
tests, hidden tests included) always run as the instructor wrote them, with the instructor's points.
"""

from __future__ import annotations

import ast
import builtins
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import nbformat

MAX_NOTEBOOK_BYTES = 20 << 20
Kind = Literal["setup", "answer", "test", "manual", "student"]
NAMES = {"setup": "read-only cell", "answer": "answer cell", "test": "test cell", "manual": "cell"}


@dataclass(frozen=True)
class SourceCell:
    """A cell of the instructor's notebook."""
    grade_id: str
    kind: Kind  # setup (read-only), answer, test or manual
    cell_type: str  # code or markdown
    source: str  # what runs (with hidden tests)
    release_source: str  # what students received
    points: float | None


@dataclass(frozen=True)
class Step:
    """A code cell to run: an instructor's (setup or test) or a student's (answer or added)."""
    kind: Kind
    source: str
    grade_id: str | None = None  # None for a cell the student added
    points: float | None = None

    @property
    def student(self) -> bool:
        return self.kind in ("answer", "student")

    def describe(self) -> str:
        if self.grade_id is None:
            return "a cell you added"
        return {"answer": "your answer '{}'", "test": "the test '{}'"}.get(self.kind, "the cell '{}'").format(
            self.grade_id)


def kind_of(nbgrader: dict) -> Kind:
    """nbgrader's cell types in the grader's words."""
    grade, solution = nbgrader.get("grade", False), nbgrader.get("solution", False)
    if grade and not solution and not nbgrader.get("task", False):
        return "test"
    if solution and not grade:
        return "answer"
    return "manual" if grade or nbgrader.get("task", False) else "setup"


def read_submission(path: str | Path) -> nbformat.NotebookNode:
    """The notebook, or ``ValueError`` with a sentence a student understands."""
    size = os.path.getsize(path)
    if size == 0:
        raise ValueError("the submitted file is empty")
    if size > MAX_NOTEBOOK_BYTES:
        raise ValueError(f"the submitted file is {size >> 20} MB, more than the {MAX_NOTEBOOK_BYTES >> 20} MB allowed")
    text = Path(path).read_bytes().decode("utf-8", errors="replace")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"the file is not a valid notebook (broken JSON at line {error.lineno}: {error.msg})") \
            from None
    except RecursionError:
        raise ValueError("the file is not a valid notebook (JSON nested too deeply)") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise ValueError("the file is JSON but not a Jupyter notebook (no list of cells)")
    try:
        return nbformat.reads(json.dumps(data), as_version=4, capture_validation_error={})
    except Exception as error:  # nbformat raises many kinds for malformed notebooks
        raise ValueError(f"the notebook's structure is broken ({type(error).__name__})") from error


def _source(cell) -> str:
    source = cell.get("source", "")
    return "".join(map(str, source)) if isinstance(source, list) else str(source)


def _grade_id(cell) -> str | None:
    metadata = cell.get("metadata")
    nbgrader = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    grade_id = nbgrader.get("grade_id") if isinstance(nbgrader, dict) else None
    return grade_id if isinstance(grade_id, str) else None


def _tampering(cell, truth: SourceCell) -> list[str]:
    """What the student changed in an instructor cell (it runs as the instructor wrote it anyway)."""
    name, found = f"the {NAMES[truth.kind]} '{truth.grade_id}'", []
    meta = cell.get("metadata", {}).get("nbgrader", {})
    if cell.get("cell_type") != truth.cell_type:
        found.append(f"{name} had been turned into {cell.get('cell_type')}: it was restored")
    elif truth.cell_type == "code" and _source(cell) != truth.release_source:
        found.append(f"{name} had been edited: the original was restored and run")
    if truth.points is not None:
        try:
            claimed = float(meta.get("points"))
        except (TypeError, ValueError):
            claimed = None
        if claimed != truth.points:
            found.append(f"{name} claimed {meta.get('points')!r} points instead of {truth.points:g}: "
                         "the original points count")
    expected = {"grade": truth.kind == "test", "solution": False, "locked": True}
    if {key: meta.get(key, False) for key in expected} != expected:
        found.append(f"{name}'s grading metadata had been changed: the original was restored")
    return found


def plan(nb: nbformat.NotebookNode, truth: tuple[SourceCell, ...]) -> tuple[list[Step], list[str]]:
    """The code cells to run, in the instructor's order, and notices about what had to be restored.

    Each instructor cell runs as written; each answer cell with the student's code (the released stub when it is
    missing); a cell the student added runs right after the instructor or answer cell it followed. A second cell
    claiming an instructor cell's id is the student's own code.
    """
    by_id = {cell.grade_id: cell for cell in truth}
    submitted: dict[str, object] = {}  # grade_id -> the student's cell
    added: dict[str | None, list[str]] = {}  # the known cell a student cell follows -> its sources
    anchor, order, notices = None, [], []
    for cell in nb.cells:
        grade_id = _grade_id(cell)
        if grade_id in by_id and grade_id not in submitted:
            submitted[grade_id] = cell
            order.append(grade_id)
            anchor = grade_id
        elif cell.get("cell_type") == "code":
            added.setdefault(anchor, []).append(_source(cell))
    known = [grade_id for grade_id in order if by_id[grade_id].kind != "manual"]
    if known != [cell.grade_id for cell in truth if cell.grade_id in known]:
        notices.append("cells had been moved: they ran in the assignment's original order")

    steps = [Step("student", source) for source in added.get(None, [])]
    for truth_cell in truth:
        cell = submitted.get(truth_cell.grade_id)
        if truth_cell.kind == "answer":
            if cell is None:
                notices.append(f"the answer cell '{truth_cell.grade_id}' was missing: it was put back as released "
                               "(empty)")
            elif cell.get("cell_type") != "code":
                notices.append(f"your answer cell '{truth_cell.grade_id}' had been turned into "
                               f"{cell.get('cell_type')}: it was run as code")
            source = truth_cell.release_source if cell is None else _source(cell)
            steps.append(Step("answer", source, truth_cell.grade_id))
        elif truth_cell.kind in ("setup", "test") and truth_cell.cell_type == "code":
            if cell is None:
                notices.append(f"the {NAMES[truth_cell.kind]} '{truth_cell.grade_id}' was missing: it was put back "
                               "and run")
            else:
                notices += _tampering(cell, truth_cell)
            steps.append(Step(truth_cell.kind, truth_cell.source, truth_cell.grade_id, truth_cell.points))
        elif truth_cell.kind == "test" and cell is None:  # a markdown test: nothing to run, nothing restored
            pass
        steps += [Step("student", source) for source in added.get(truth_cell.grade_id, [])]
    return steps, notices


def python_source(source: str) -> str:
    """A cell as Python: IPython's magics and shell escapes become calls to ``get_ipython()``, as in a kernel."""
    if not any(line.lstrip().startswith(("%", "!")) for line in source.splitlines()):
        return source
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        return TransformerManager().transform_cell(source)
    except Exception:  # not even IPython can read it: Python's SyntaxError will say why
        return source


# -- which names cross from the student's process to the tests -------------------------------------------------------
def _bound(tree: ast.AST) -> set[str]:
    """Names bound anywhere in ``tree`` (assignments, imports, definitions, loop and with targets)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            names.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
    return names


def _top_level(source: str) -> set[str]:
    """Names a cell defines at its top level (not its imports, not its functions' local variables)."""
    try:
        tree = ast.parse(python_source(source))
    except SyntaxError:
        return set()
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif not isinstance(node, ast.Import | ast.ImportFrom):
            names |= _bound(node)
    return names


def crossing_names(steps: list[Step], truth: tuple[SourceCell, ...]) -> tuple[set[str], set[str]]:
    """Which names the tests take from the student's process, and which of them are answers.

    Answers are the names the instructor's answer cells bind at their top level (``def mse``): they always come
    from the student, even where a test rebinds them for a while. Besides these, a name the instructor's cells use
    but never bind comes from the student; a name any instructor cell binds (``np``, ``expect_close``, test data)
    always means the instructor's value, so a student cannot shadow the tools the tests rely on.
    """
    answers = set().union(*(_top_level(cell.source) for cell in truth if cell.kind == "answer"
                            and cell.cell_type == "code"))
    used, bound = set(), set(dir(builtins))
    for step in steps:
        if step.kind in ("setup", "test"):
            try:
                tree = ast.parse(python_source(step.source))
            except SyntaxError:
                continue
            used |= {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
            bound |= _bound(tree)
    return answers | (used - bound), answers
