"""Exercise 8's recipe part, graded as a class: a recipe earns the points of every accuracy band it reaches on the
hidden seed (partial credit for getting close), an invalid or over-budget recipe only loses part (c), and the
grader runs the recipe in its own process with the real descent, whatever the submission's own cells do."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import nbformat
import pytest

from descent.experiments import run_recipe
from descent_grading import roundtrip
from descent_grading.grade import grade_class

ROOT = Path(__file__).resolve().parents[1]
NAME = "08_training"
SOURCE = nbformat.read(ROOT / "solutions" / NAME / f"{NAME}.ipynb", as_version=4)
RELEASE = nbformat.read(ROOT / "exercises" / NAME / f"{NAME}.ipynb", as_version=4)


def cell(grade_id: str) -> nbformat.NotebookNode:
    return next(c for c in SOURCE.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def bands() -> list[tuple[float, float]]:
    """(accuracy threshold, points) of each hidden recipe test, read from the solution."""
    tests = [c for c in SOURCE.cells if re.fullmatch(r"test_recipe_\d+", c.metadata.get("nbgrader", {})
                                                      .get("grade_id", ""))]
    return [(float(re.search(r"_accuracy >= ([\d.]+)", c.source).group(1)), float(c.metadata.nbgrader.points))
            for c in tests]


HIDDEN_SEED = int(re.search(r"seed=(\d+)", cell("test_recipe_85").source).group(1))
PARTS_AB = roundtrip.points_before(RELEASE, "recipe")  # parts (a) and (b), all earned by the solution's code
VALID = float(cell("test_recipe_visible").metadata.nbgrader.points)
RECIPES = {  # student: (recipe source, its accuracy band on the hidden seed; None: invalid)
    "close": ('{"optimizer": "sgd", "lr": 0.1, "epochs": 10}', (0.85, 0.90)),
    "far": ('{"optimizer": "adam", "lr": 1e-3, "epochs": 5}', (0.0, 0.85)),
    "over_budget": ('{"optimizer": "adam", "lr": 1e-2, "epochs": 12}', None),
    "not_a_dict": ('"adam, lr 0.01, 10 epochs"', None),
}


def expected_score(recipe_source: str, band) -> float:
    if band is None:
        return PARTS_AB
    run = run_recipe(eval(recipe_source), seed=HIDDEN_SEED, max_epochs=10)
    accuracy = run.val_accuracies[run.best_epoch]
    assert band[0] <= accuracy < band[1], f"{recipe_source} reaches {accuracy:.3f}, outside its band {band}"
    return PARTS_AB + VALID + sum(points for threshold, points in bands() if accuracy >= threshold)


@pytest.fixture(scope="module")
def scores(tmp_path_factory):
    root = roundtrip.new_course(tmp_path_factory.mktemp("course"), ROOT / "solutions", [NAME])
    submitted = tmp_path_factory.mktemp("submitted")
    answers = roundtrip.answers(SOURCE)
    for student, (recipe, _) in RECIPES.items():
        folder = submitted / student / NAME
        folder.mkdir(parents=True)
        nb = roundtrip.answered(RELEASE, {**answers, "recipe": f"recipe = {recipe}"})
        nbformat.write(nb, folder / f"{NAME}.ipynb")
    summary = grade_class(root, submitted, stream=io.StringIO())
    assert not summary.failed and not summary.skipped, summary.text(root)
    with (root / "grades.csv").open() as handle:
        return {row["student_id"]: float(row["score"]) for row in csv.DictReader(handle)}


def test_the_bands_give_partial_credit_below_a_full_target():
    assert [threshold for threshold, _ in bands()] == sorted(threshold for threshold, _ in bands())
    assert len(bands()) >= 3 and PARTS_AB == 10.0


@pytest.mark.parametrize("student", list(RECIPES))
def test_a_recipe_scores_the_bands_it_reaches_on_the_hidden_seed(scores, student):
    recipe, band = RECIPES[student]
    assert scores[student] == expected_score(recipe, band)
