"""What every exercise notebook promises: it runs on Colab, its hidden tests are tagged, and its solution names the
descent functions withheld while it is graded. (tests/test_book.py checks each exercise page's launch links.)"""

from __future__ import annotations

import importlib
from pathlib import Path

import nbformat
import pytest

import descent

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = sorted(path.name for path in (ROOT / "solutions").iterdir() if path.is_dir())
HIDDEN = "### BEGIN HIDDEN TESTS"


def notebook(folder: str, name: str) -> nbformat.NotebookNode:
    return nbformat.read(ROOT / folder / name / f"{name}.ipynb", as_version=4)


def install_cell(nb: nbformat.NotebookNode):
    return next((cell for cell in nb.cells if "google.colab" in cell.source), None)


@pytest.mark.parametrize("folder", ["solutions", "exercises"])
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_the_exercise_installs_descent_on_colab_like_its_chapter(name, folder):
    nb, chapter = notebook(folder, name), nbformat.read(ROOT / "chapters" / f"{name}.ipynb", as_version=4)
    cell, expected = install_cell(nb), install_cell(chapter)
    assert cell is not None, f"{folder}/{name} has no Colab install cell"
    assert cell.source == expected.source and cell.metadata.get("tags") == ["remove-cell"]
    assert cell.metadata.nbgrader["locked"] and not cell.metadata.nbgrader["solution"]
    first_import = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "descent" in c.source)
    assert nb.cells.index(cell) <= first_import


@pytest.mark.parametrize("folder", ["solutions", "exercises"])
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_exactly_the_test_cells_with_hidden_tests_are_tagged(name, folder):
    solution = {cell.metadata.nbgrader["grade_id"]: HIDDEN in cell.source
                for cell in notebook("solutions", name).cells if cell.metadata.get("nbgrader", {}).get("grade")}
    for cell in notebook(folder, name).cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        tagged = "hidden-tests" in cell.metadata.get("tags", [])
        assert tagged == solution.get(grade_id, False), grade_id


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_the_solution_withholds_functions_where_descent_defines_them(name):
    """Each name is a module's own top-level function (the grader replaces it there, so the package's re-exports,
    such as descent.mse for descent.losses.mse, are withheld with it)."""
    withheld = notebook("solutions", name).metadata.get("descent", {}).get("withheld", [])
    assert len(set(withheld)) == len(withheld)
    for dotted in withheld:
        module, _, attribute = dotted.rpartition(".")
        function = getattr(importlib.import_module(module), attribute)
        assert getattr(function, "__module__", module) == module, f"{dotted} is defined in {function.__module__}"


ASKED = {  # the descent functions each exercise asks learners to write
    "01_loss_functions": ["mse", "mae", "binary_cross_entropy_with_logits", "cross_entropy", "hinge"],
    "02_gradient_descent": ["numerical_grad"],
    "04_sgd_variants": ["minibatches", "sgd", "rmsprop"],
    "05_adam": ["adam", "adamw"],
    "06_schedules": ["step_lr", "cosine_annealing", "warmup_cosine"],
    "07_clipping": ["global_norm", "clip_grad_norm", "clip_by_value"],
}


@pytest.mark.parametrize("name", sorted(ASKED))
def test_every_descent_function_an_exercise_asks_for_is_withheld(name):
    withheld = {dotted.rsplit(".", 1)[1] for dotted in notebook("solutions", name).metadata["descent"]["withheld"]}
    assert set(ASKED[name]) <= withheld
    for function in ASKED[name]:
        assert callable(getattr(descent, function))
