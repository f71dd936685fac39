"""The grading pipeline: broken and hostile submissions, all graded in ONE `grade` run, each with the outcome it must
get (from grades.csv and the feedback page); the student's self-check; integrity of what students receive.

The fixture assignment (tests/fixtures/grading) has two parts: `mean` (test_mean, 2 points) and `slope`
(test_slope, 3 points). Every submission below is its release with some answers and some tampering.
"""

from __future__ import annotations

import hashlib
import html
import io
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from descent_grading import grade, roundtrip
from descent_grading.check import check
from descent_grading.course import grade_class

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 3  # seconds per cell, for this test course only
HIDDEN = ("hidden_case_7f3a", "hidden_probe_7f3a", "BEGIN HIDDEN TESTS", "the slope of sin at 0 is 1")

GOOD_MEAN = "def mean(values):\n    return float(np.mean(values))"
GOOD_SLOPE = "def slope(f, x, h=1e-5):\n    return (f(x + h) - f(x - h)) / (2 * h)"
WRONG_MEAN = "def mean(values):\n    return 0.0"
WRONG_SLOPE = "def slope(f, x, h=1e-5):\n    return 0.0"


def edit(mean=GOOD_MEAN, slope=GOOD_SLOPE, change=None):
    """The release with these answers, then ``change(cells_by_id, nb)``."""
    def build(release):
        nb = roundtrip.answered(release, {key: code for key, code in {"mean": mean, "slope": slope}.items() if code})
        if change:
            change({cell.metadata.get("nbgrader", {}).get("grade_id"): cell for cell in nb.cells}, nb)
        return nbformat.writes(nb).encode()
    return build


def delete(grade_id):
    return lambda cells, nb: nb.cells.remove(cells[grade_id])


def retype(cells, nb):
    cell = cells["test_slope"]
    cell.cell_type = "markdown"
    del cell["outputs"], cell["execution_count"]


def set_source(grade_id, text):
    return lambda cells, nb: setattr(cells[grade_id], "source", text)


def set_points(cells, nb):
    cells["test_mean"].metadata.nbgrader["points"] = 100


def attack(paths: dict) -> str:
    """An answer that tries to read the grader's files and other kernels' homes and to write another student's
    files, then reports through the grades: part 1 passes only if every read failed, part 2 only if every write
    failed."""
    return f"""
import glob, os
READ = {paths['read']!r}
WRITE = {paths['write']!r}
leaked, wrote = [], []
for path in READ:
    try:
        with open(path, 'rb') as handle:
            leaked.append(handle.read(10))
    except OSError:
        pass
leaked += glob.glob(os.path.dirname(READ[0]) + '/*')
try:  # the other kernels' homes, beside this one
    leaked += [name for name in os.listdir('..') if os.path.abspath(os.path.join('..', name)) != os.getcwd()]
except OSError:
    pass
for path in WRITE:
    try:
        with open(path, 'a') as handle:
            handle.write('x')
        wrote.append(path)
    except OSError:
        pass

def mean(values):
    return 1e9 if leaked else float(np.mean(values))

def slope(f, x, h=1e-5):
    return 1e9 if wrote else (f(x + h) - f(x - h)) / (2 * h)
"""


PATCH_ALL = ("np.isclose = lambda *a, **k: True\nnp.allclose = lambda *a, **k: True\n"
             "math.isclose = lambda *a, **k: True\n")
CASES = {  # student: (submission, score, what its feedback must say)
    "correct": (edit(), 5, "passed"),
    "untouched": (edit(mean=None, slope=None), 0, "not answered yet"),
    "partial": (edit(slope="def slope(f, x, h=1e-5):\n    return (f(x + h) - f(x - h)) / h"), 2,
                "expected 6.0 but got 12.0"),
    "loop": (edit(mean="def mean(values):\n    while True:\n        pass"), 3, "time limit"),
    "stubborn_loop": (edit(mean="import time\ndef mean(values):\n    while True:\n        try:\n"
                                "            time.sleep(0.1)\n        except KeyboardInterrupt:\n            pass"),
                      0, "did not stop when interrupted"),
    "kernel_exit": (edit(slope="import os\nos._exit(1)"), 2, "the Python kernel stopped"),
    "invalid_json": (lambda release: b'{"cells": [', 0, "not a valid notebook"),
    "empty": (lambda release: b"", 0, "empty"),
    "deleted_test": (edit(mean=WRONG_MEAN, change=delete("test_mean")), 3, "was missing: it was put back and run"),
    "edited_test": (edit(mean=WRONG_MEAN, change=set_source("test_mean", "pass")), 3, "had been edited"),
    "retyped_test": (edit(slope=WRONG_SLOPE, change=retype), 2, "had been turned into markdown"),
    "points_tampered": (edit(change=set_points), 5, "claimed 100 points"),
    "megabytes": (edit(mean=GOOD_MEAN + "\nfor _ in range(60):\n    print('x' * 100_000)"), 5, "more than 1 MB"),
    "patch_numpy_math": (edit(mean=PATCH_ALL + WRONG_MEAN, slope=WRONG_SLOPE), 0, "your code replaced"),
    "patch_inside_answer": (edit(mean="def mean(values):\n    " + PATCH_ALL.replace("\n", "\n    ") + "return 0.0",
                                 slope=WRONG_SLOPE), 0, "your code replaced"),
    "patch_checker_code": (edit(mean="import descent.feedback\ndescent.feedback.expect_close.__code__ = "
                                     "(lambda *a, **k: None).__code__\n" + WRONG_MEAN), 0, "your code replaced"),
    "shadow_checker": (edit(mean="def expect_close(*args, **kwargs):\n    pass\n" + WRONG_MEAN), 3,
                       "expected 2.0 but got 0.0"),
    "hide_tracebacks": (edit(mean="get_ipython().showtraceback = lambda *a, **k: None\n" + WRONG_MEAN,
                             slope=WRONG_SLOPE), 0, "your code replaced"),
    "always_equal": (edit(mean="class Anything:\n    def __eq__(self, other):\n        return True\n"
                               "    __hash__ = object.__hash__\n\ndef mean(values):\n    return Anything()"), 3,
                     "expected a number"),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """One `python -m descent_grading grade` run over every case; returns (course root, csv rows, output)."""
    solutions = roundtrip.fixture_solutions(tmp_path_factory.mktemp("solutions"))
    root = roundtrip.new_course(tmp_path_factory.mktemp("course"), solutions, ["99_fixture"],
                                f"\nc.ExecutePreprocessor.timeout = {TIMEOUT}\n")
    release = roundtrip.release(root, "99_fixture", tmp_path_factory.mktemp("release"))["99_fixture"]
    submitted = tmp_path_factory.mktemp("submitted")
    victim = submitted / "correct" / "99_fixture" / "99_fixture.ipynb"
    paths = {"read": [str(root / "solutions" / "99_fixture" / "99_fixture.ipynb"), str(root / "gradebook.db"),
                      str(victim)],
             "write": [str(victim), str(root / "gradebook.db"), str(root / "grades.csv")]}
    cases = {**CASES, "attack_files": (edit(mean=attack(paths), slope="# slope is defined above"), 5, "passed")}
    for student, (build, _, _) in cases.items():
        folder = submitted / student / "99_fixture"
        folder.mkdir(parents=True)
        (folder / "99_fixture.ipynb").write_bytes(build(release))
    (submitted / "correct" / "99_fixture" / "timestamp.txt").write_text("2026-11-21T11:30:00+01:00")
    before = {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in submitted.rglob("*") if path.is_file()}
    run = subprocess.run([sys.executable, "-m", "descent_grading", "grade", str(submitted), "--course", str(root)],
                         capture_output=True, text=True, timeout=300)
    after = {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in submitted.rglob("*") if path.is_file()}
    rows = {row["student_id"]: row for row in _csv(root / "grades.csv")}
    return {"root": root, "rows": rows, "run": run, "cases": cases, "release": release, "unchanged": before == after}


def _csv(path):
    import csv

    with path.open() as handle:
        return list(csv.DictReader(handle))


def feedback(graded, student) -> str:
    return (graded["root"] / "feedback" / student / "99_fixture" / "99_fixture.html").read_text()


def test_one_run_grades_every_submission_and_exits_cleanly(graded):
    assert graded["run"].returncode == 0, graded["run"].stdout + graded["run"].stderr
    assert set(graded["rows"]) == set(graded["cases"])


@pytest.mark.parametrize("student", [*CASES, "attack_files"])
def test_each_submission_gets_its_outcome_and_says_what_happened(graded, student):
    _, expected, message = graded["cases"][student]
    if student == "attack_files" and "private file-system view" not in graded["run"].stdout:
        pytest.skip("no mount namespaces here: world-readable files are readable by the sandbox user")
    row = graded["rows"][student]
    assert float(row["score"]) == expected, feedback(graded, student)
    assert float(row["max_score"]) == 5
    assert message in feedback(graded, student)


def test_grades_csv_has_nbgrader_export_columns_and_the_submission_timestamp(graded):
    header = (graded["root"] / "grades.csv").read_text().splitlines()[0]
    assert header == ("assignment,duedate,timestamp,student_id,last_name,first_name,email,raw_score,"
                      "late_submission_penalty,score,max_score")
    assert graded["rows"]["correct"]["timestamp"] == "2026-11-21 10:30:00"  # UTC, as nbgrader stores it
    assert {row["assignment"] for row in graded["rows"].values()} == {"99_fixture"}


def test_submitted_files_are_never_modified(graded):
    assert graded["unchanged"]


def test_the_grader_writes_nothing_students_can_read_hidden_tests_from(graded):
    pages = list((graded["root"] / "feedback").rglob("*.html"))
    assert len(pages) == len(graded["cases"])
    for page in pages:
        text = html.unescape(page.read_text())
        assert not [marker for marker in HIDDEN if marker in text], page
        assert "Traceback" not in text and "mean([1, 2, 3]), 2.0" not in text, page  # no test code, visible or not
    release = nbformat.writes(graded["release"])
    assert not [marker for marker in HIDDEN if marker in release]


def test_feedback_shows_each_test_with_points_and_message(graded):
    page = feedback(graded, "partial")
    assert "test_mean" in page and "2 / 2" in page
    assert "test_slope" in page and "0 / 3" in page
    assert "slope of x² at 3: expected 6.0 but got 12.0 — divide by 2h" in html.unescape(page)


def test_summary_names_each_problem_and_flags_suspicious_code(graded):
    out = graded["run"].stdout
    assert "Graded 20 submission notebook(s)" in out
    assert "kernel_exit/99_fixture: 2/5" in out and "the Python kernel stopped" in out
    assert "invalid_json/99_fixture: 0/5" in out
    review = out.split("To review", 1)[1]
    assert "patch_checker_code/99_fixture" in review and "__code__" in review
    assert "correct/" not in review


def test_the_gradebook_is_private_to_the_grader(graded):
    assert (graded["root"] / "gradebook.db").stat().st_mode & 0o077 == 0


def test_a_zip_from_an_lms_with_iso_timestamps_keeps_each_students_newest(graded, tmp_path):
    import zipfile

    release = graded["release"]
    archive = tmp_path / "export.zip"
    good, bad = edit()(release), edit(mean=WRONG_MEAN, slope=WRONG_SLOPE)(release)
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("export/ada_2026-11-20T09:00:00Z_99_fixture.ipynb", bad)
        zf.writestr("export/ada_2026-11-21T09:00:00Z_99_fixture.ipynb", good)  # newer: graded
        zf.writestr("export/bo.b_20261121T100000Z_99_fixture.ipynb", bad)
        zf.writestr("export/notes.txt", "not a notebook")
        zf.writestr("export/stray.ipynb", good)  # matches no pattern: reported, not graded
    summary = grade_class(graded["root"], archive, stream=io.StringIO())
    out = summary.text(graded["root"])
    rows = {row["student_id"]: row for row in _csv(graded["root"] / "grades.csv")}
    assert set(rows) == {"ada", "bo.b"}, out
    assert (rows["ada"]["score"], rows["ada"]["timestamp"]) == ("5.0", "2026-11-21 09:00:00")
    assert rows["bo.b"]["score"] == "0.0"
    assert "export/stray.ipynb" in out.split("Not graded:", 1)[1]


def test_check_prints_each_parts_visible_result(graded, tmp_path):
    notebook = tmp_path / "99_fixture.ipynb"
    notebook.write_bytes(CASES["partial"][0](graded["release"]))
    out = io.StringIO()
    assert check(notebook, graded["root"], out) == 1
    lines = out.getvalue().splitlines()
    assert any(line.split()[:2] == ["✓", "test_mean"] for line in lines), out.getvalue()
    assert any(line.split()[:2] == ["✗", "test_slope"] and "expected 6.0 but got 12.0" in line for line in lines)
    assert "1 of 2 parts pass their visible tests" in out.getvalue()


def test_the_guard_checks_the_calls_a_test_cell_makes_but_not_those_inside_its_helpers():
    code = grade.guarded_test("def helper(x):\n    return abs(x)\nexpect_close('x', helper(-1), 1)\n42", "_g1")
    first, *body = code.splitlines()
    assert first == "_g1.cell('test')"
    assert "    return abs(x)" in body  # inside a helper: untouched
    assert "_g1.call(lambda: expect_close, 'x', _g1.call(lambda: helper, -1), 1)" in body
    assert body[-1] == "_g1.finish(42)"  # the last expression is still the cell's value


def test_restoring_puts_missing_instructor_cells_back_in_order():
    cells = tuple(grade.SourceCell(name, kind, "code", f"# {name}", f"# {name}", points)
                  for name, kind, points in [("setup", "trusted", None), ("a", "answer", None), ("test_a", "test", 1),
                                             ("b", "answer", None), ("test_b", "test", 2)])
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1", metadata={"nbgrader": {"grade_id": "b"}})])
    order, notices = grade.reconcile(nb, cells)
    assert [cell.grade_id if cell else None for _, _, cell in order] == ["setup", "a", "test_a", "b", "test_b"]
    assert [source for _, source, _ in order][3] == "x = 1"  # the student's answer is kept
    assert len(notices) == 4  # setup, a, test_a and test_b were missing
