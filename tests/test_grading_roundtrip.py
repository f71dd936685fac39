"""The round trip for every assignment in solutions/, graded in one run like a class: the student version answered
with the solutions earns full marks, the untouched student version 0, and one answered only up to its second part
earns exactly the points of the tests above that part. A version whose answers import the course's own reference
(each answer named like a function the assignment withholds) earns 0 and is named in the summary.
"""

from __future__ import annotations

import ast
import csv
import io
from pathlib import Path

import nbformat
import pytest

from descent_grading import roundtrip
from descent_grading.grade import grade_class

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = sorted(path.name for path in (ROOT / "solutions").iterdir() if path.is_dir())


def student_version(name: str) -> nbformat.NotebookNode:
    return nbformat.read(ROOT / "exercises" / name / f"{name}.ipynb", as_version=4)


def solution(name: str) -> nbformat.NotebookNode:
    return nbformat.read(ROOT / "solutions" / name / f"{name}.ipynb", as_version=4)


def max_points(nb: nbformat.NotebookNode) -> float:
    return sum(float(cell.metadata.nbgrader.get("points", 0)) for cell in nb.cells
               if cell.metadata.get("nbgrader", {}).get("grade") and not cell.metadata.nbgrader.get("solution"))


def reference_answers(name: str) -> dict[str, str]:
    """Answer cells rewritten to import the withheld function of the same name from descent."""
    withheld = {dotted.rsplit(".", 1)[1]: dotted for dotted in solution(name).metadata.get("descent", {})
                .get("withheld", [])}
    cheats = {}
    for grade_id, code in roundtrip.answers(solution(name)).items():
        defined = [node.name for node in ast.parse(code).body if isinstance(node, ast.FunctionDef)]
        if defined and all(function in withheld for function in defined):
            cheats[grade_id] = "\n".join(f"from {withheld[f].rsplit('.', 1)[0]} import {f}" for f in defined)
    return cheats


def expected(name: str) -> dict[str, float]:
    release = student_version(name)
    ids = roundtrip.answer_ids(release)
    scores = {"full": max_points(release), "zero": 0.0}
    if len(ids) > 1:
        scores["part"] = roundtrip.points_before(release, ids[1])
    if reference_answers(name):
        scores["reference"] = 0.0
    return scores


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    if not ASSIGNMENTS:
        pytest.skip("no assignments in solutions/ yet")
    root = roundtrip.new_course(tmp_path_factory.mktemp("course"), ROOT / "solutions", ASSIGNMENTS)
    submitted = tmp_path_factory.mktemp("submitted")
    for name in ASSIGNMENTS:
        release, answers = student_version(name), roundtrip.answers(solution(name))
        ids = roundtrip.answer_ids(release)
        versions = {"full": roundtrip.answered(release, answers), "zero": release,
                    "part": roundtrip.answered(release, answers, only=ids[:1]),
                    "reference": roundtrip.answered(release, reference_answers(name))}
        for student, nb in versions.items():
            if student in expected(name):
                folder = submitted / student / name
                folder.mkdir(parents=True)
                nbformat.write(nb, folder / f"{name}.ipynb")
    summary = grade_class(root, submitted, stream=io.StringIO())
    assert not summary.failed and not summary.skipped, summary.text(root)
    with (root / "grades.csv").open() as handle:
        return {(row["student_id"], row["assignment"]): row for row in csv.DictReader(handle)}, summary.text(root)


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_solution_scores_full_untouched_zero_and_partial_exactly_its_parts(rows, name):
    table, out = rows
    for student, score in expected(name).items():
        row = table[student, name]
        assert float(row["max_score"]) == max_points(student_version(name)) > 0
        assert float(row["score"]) == score, f"{student}/{name}\n{out}"
    if "part" in expected(name):
        assert 0 < expected(name)["part"] < expected(name)["full"]


@pytest.mark.parametrize("name", [name for name in ASSIGNMENTS if reference_answers(name)])
def test_answers_that_import_the_withheld_reference_score_zero_and_are_named(rows, name):
    table, out = rows
    assert float(table["reference", name]["score"]) == 0.0
    flagged = out.split("Used withheld descent functions", 1)[1]
    assert f"reference/{name}: " in flagged, out
