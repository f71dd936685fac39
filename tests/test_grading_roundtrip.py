"""The round trip for every assignment in solutions/, graded in one run like a class: the student version answered
with the solutions earns full marks, the untouched student version 0, and one answered only up to its second part
earns exactly the points of the tests above that part.
"""

from __future__ import annotations

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


def expected(name: str) -> dict[str, float]:
    release = student_version(name)
    ids = roundtrip.answer_ids(release)
    scores = {"full": max_points(release), "zero": 0.0}
    if len(ids) > 1:
        scores["part"] = roundtrip.points_before(release, ids[1])
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
                    "part": roundtrip.answered(release, answers, only=ids[:1])}
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
