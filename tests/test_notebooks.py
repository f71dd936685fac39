"""The notebooks as source code: clean chapters, exercises that grade, and a student release that matches its source.

The chapters themselves are executed by nbval (``--nbval-lax`` in pyproject.toml collects ``chapters/``), which
also compares the outputs of the cells tagged ``nbval-check-output``.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from nbgrader.validator import Validator

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
ASSIGNMENTS = sorted(path.name for path in (ROOT / "solutions").iterdir() if path.is_dir())
PINNED = "nbval-check-output"  # the cell tag with which nbval compares a cell's committed output


def solution(name: str) -> Path:
    return ROOT / "solutions" / name / f"{name}.ipynb"


def release(name: str) -> Path:
    return ROOT / "exercises" / name / f"{name}.ipynb"


def code_cells(path: Path) -> list[dict]:
    return [cell for cell in json.loads(path.read_text())["cells"] if cell["cell_type"] == "code"]


def test_there_is_an_exercise_for_every_chapter():
    assert [path.stem for path in CHAPTERS] == ASSIGNMENTS


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda path: path.stem)
def test_chapters_are_committed_without_outputs_except_the_pinned_text(path):
    for cell in code_cells(path):
        source = "".join(cell["source"])
        assert set(cell["metadata"]) <= {"tags", "mystnb"}, f"noisy cell metadata {set(cell['metadata'])}:\n{source}"
        if PINNED in cell["metadata"].get("tags", []):
            kinds = {output["output_type"] for output in cell["outputs"]}
            assert kinds <= {"stream", "execute_result"}, f"pinned cell has {kinds} outputs:\n{source}"
            assert all(set(o.get("data", {})) <= {"text/plain"} for o in cell["outputs"]), source
        else:  # nbval needs the execution count of a pinned cell; every other cell is committed blank
            assert cell["outputs"] == [], f"commit this cell without its outputs:\n{source}"
            assert cell["execution_count"] is None, f"clear the execution count of:\n{source}"
    metadata = json.loads(path.read_text())["metadata"]
    assert "widgets" not in metadata, "saved widget state belongs to the built book, not the source"


def test_the_book_lists_each_chapter_followed_by_its_exercise_then_the_reference():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [entry["file"] for part in toc["parts"] for entry in part["chapters"]]
    expected = [page for name in ASSIGNMENTS for page in (f"chapters/{name}", f"exercises/{name}/{name}")]
    assert files == [*expected, "reference"]


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_the_solution_passes_every_test(name):
    results = Validator().validate(str(solution(name)))
    assert results == {}, json.dumps(results, indent=1)[:3000]


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_the_untouched_student_version_passes_no_test(name):
    results = Validator(invert=True).validate(str(release(name)))
    assert results == {}, json.dumps(results, indent=1)[:3000]


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_the_student_version_hides_solutions_and_hidden_tests(name):
    text = release(name).read_text()
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in text


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_exercises_are_exactly_what_nbgrader_generates_from_solutions(name, tmp_path):
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path)
    shutil.copytree(ROOT / "solutions" / name, tmp_path / "solutions" / name)
    nbgrader = Path(sys.executable).with_name("nbgrader")
    env = {**os.environ, "PATH": f"{nbgrader.parent}{os.pathsep}{os.environ['PATH']}"}  # nbgrader calls alembic
    result = subprocess.run([nbgrader, "generate_assignment", name, "--force"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    generated = json.loads((tmp_path / "exercises" / name / f"{name}.ipynb").read_text())
    assert generated == json.loads(release(name).read_text()), "run `make assignments` and commit exercises/"


def shows_a_figure(source: str) -> str | None:
    """The name of the explorer whose figure a cell displays: its last statement is a bare
    ``name.update(...)`` (which returns the figure), else None."""
    import ast

    try:
        body = ast.parse(source).body
    except SyntaxError:  # IPython magics
        return None
    last = body[-1] if body else None
    if (isinstance(last, ast.Expr) and isinstance(last.value, ast.Call)
            and isinstance(last.value.func, ast.Attribute) and last.value.func.attr == "update"
            and isinstance(last.value.func.value, ast.Name)):
        return last.value.func.value.id
    return None


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda path: path.stem)
def test_no_explorer_is_preceded_by_a_snapshot_of_its_own_figure(path):
    # The static explorer opens on the figure the explorer shows; a snapshot cell before it would show the same
    # figure twice in a row on the page.
    snapshots = set()
    for cell in code_cells(path):
        source = "".join(cell["source"])
        shown = {name for name in snapshots if f"{name}.show(" in source}
        assert not shown, f"{path.name}: {', '.join(shown)} displayed by update(...) and then again by show()"
        name = shows_a_figure(source)
        if name:
            snapshots.add(name)
        snapshots -= {n for n in snapshots if f"{n}.show(" in source}
