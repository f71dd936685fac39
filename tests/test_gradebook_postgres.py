"""The gradebook in a real PostgreSQL server (conftest's throwaway one): a class graded into PostgreSQL gets the
grades a SQLite run gets, and two graders started at once on two halves of a class, writing to one PostgreSQL
gradebook, both succeed with every student recorded once. nbgrader creates its rows by looking first and inserting
after, so graders setting up one empty gradebook at once used to fail on each other's rows (``GradebookLock``).

The class is the fixture assignment (tests/fixtures/grading: `mean`, 2 points, and `slope`, 3 points) answered in
four ways, so each student's score says which tests passed.
"""

from __future__ import annotations

import csv
import io
import multiprocessing
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from descent_grading import roundtrip
from descent_grading.course import load_config, source_notebooks, venv_on_path
from descent_grading.grade import grade_class

UNSANDBOXED = shutil.which("bwrap") is None  # the submissions are the instructor's own answers: safe either way
CLASS = {"both": (["mean", "slope"], 5.0), "mean_only": (["mean"], 2.0), "slope_only": (["slope"], 3.0),
         "neither": ([], 0.0)}


@pytest.fixture(scope="module")
def fixture_class(tmp_path_factory):
    """The fixture assignment's solutions and the class's submissions, one folder per student."""
    folder = tmp_path_factory.mktemp("class")
    solutions = roundtrip.fixture_solutions(folder / "solutions")
    release = roundtrip.release(roundtrip.new_course(folder / "scratch", solutions, ["99_fixture"]), "99_fixture",
                                folder / "release")["99_fixture"]
    answers = roundtrip.answers(nbformat.read(solutions / "99_fixture" / "99_fixture.ipynb", as_version=4))
    submitted = folder / "submitted"
    for student, (parts, _) in CLASS.items():
        notebook = submitted / student / "99_fixture" / "99_fixture.ipynb"
        notebook.parent.mkdir(parents=True)
        nbformat.write(roundtrip.answered(release, answers, only=parts), notebook)
    return solutions, submitted


def course(root: Path, solutions: Path, db_url: str | None = None) -> Path:
    extra = "\nc.ExecutePreprocessor.timeout = 5\n" + (f"c.CourseDirectory.db_url = {db_url!r}\n" if db_url else "")
    return roundtrip.new_course(root, solutions, ["99_fixture"], extra)


def gradebook(db_url: str) -> dict:
    """Every submission in the gradebook: (student, assignment) -> (score, {test: auto_score}), and the number of
    assignment and notebook rows (each must exist once, however many graders created it)."""
    with Gradebook(db_url) as gb:
        submissions = {(sub.student.id, sub.assignment.name):
                       (sub.score, {grade.name: grade.auto_score for nb in sub.notebooks for grade in nb.grades})
                       for assignment in gb.assignments for sub in assignment.submissions}
        return {"submissions": submissions, "assignments": len(gb.assignments),
                "notebooks": sum(len(assignment.notebooks) for assignment in gb.assignments)}


def grades_csv(root: Path) -> dict:
    with (root / "grades.csv").open(encoding="utf-8") as handle:
        return {row["student_id"]: row for row in csv.DictReader(handle)}


def test_a_class_graded_into_postgresql_gets_the_grades_of_a_sqlite_run(postgres_server, fixture_class, tmp_path):
    solutions, submitted = fixture_class
    db_url = postgres_server.new_database("roundtrip")
    runs = {}
    for name, url in (("sqlite", None), ("postgresql", db_url)):
        root = course(tmp_path / name, solutions, url)
        summary = grade_class(root, submitted, jobs=2, unsandboxed=UNSANDBOXED, stream=io.StringIO())
        assert summary.complete, summary.text(root)
        runs[name] = (root, url or f"sqlite:///{root / 'gradebook.db'}")
    in_sqlite, in_postgres = (gradebook(url) for _, url in runs.values())
    assert in_postgres == in_sqlite
    assert {student: score for (student, _), (score, _) in in_postgres["submissions"].items()} == \
        {student: score for student, (_, score) in CLASS.items()}
    assert grades_csv(runs["postgresql"][0]) == grades_csv(runs["sqlite"][0])


def test_two_graders_at_once_on_halves_of_a_class_record_every_student_once(postgres_server, fixture_class,
                                                                             tmp_path):
    """Two machines grading one class: each has its own course folder and half the submissions, and both write to
    the same, still empty, PostgreSQL gradebook at the same moment."""
    solutions, submitted = fixture_class
    db_url = postgres_server.new_database("two_graders")
    students = sorted(CLASS)
    runs = []
    for index, half in enumerate((students[::2], students[1::2])):
        part = tmp_path / f"half{index}"
        for student in half:
            shutil.copytree(submitted / student, part / student)
        root = course(tmp_path / f"grader{index}", solutions, db_url)
        command = [sys.executable, "-m", "descent_grading", "grade", str(part), "--course", str(root), "--jobs", "1",
                   *(["--unsandboxed"] if UNSANDBOXED else [])]
        runs.append(subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    outputs = [run.communicate(timeout=600)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], "\n".join(outputs)
    recorded = gradebook(db_url)
    assert {student: score for (student, _), (score, _) in recorded["submissions"].items()} == \
        {student: score for student, (_, score) in CLASS.items()}
    assert (recorded["assignments"], recorded["notebooks"]) == (1, 1)


def _set_up(root: Path, release: Path, barrier, outcomes) -> None:
    """One grader's setup (in a forked process), started when all the others are ready too."""
    venv_on_path()
    barrier.wait()
    try:
        notebook = source_notebooks(load_config(root), "99_fixture", release)["99_fixture"]
        outcomes.put(sorted(cell.points for cell in notebook.cells if cell.points))
    except Exception as error:
        outcomes.put(f"{type(error).__name__}: {error}")


def test_graders_setting_up_one_empty_gradebook_at_once_all_succeed(postgres_server, fixture_class, tmp_path):
    solutions, _ = fixture_class
    db_url = postgres_server.new_database("setup_race")
    root = course(tmp_path / "course", solutions, db_url)
    graders = 4
    context = multiprocessing.get_context("fork")
    barrier, outcomes = context.Barrier(graders), context.Queue()
    processes = [context.Process(target=_set_up, args=(root, tmp_path / f"release{index}", barrier, outcomes))
                 for index in range(graders)]
    for process in processes:
        process.start()
    results = [outcomes.get(timeout=300) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    assert results == [[2.0, 3.0]] * graders
    assert (gradebook(db_url)["assignments"], gradebook(db_url)["notebooks"]) == (1, 1)
