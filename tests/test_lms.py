"""Grading an LMS's "download all submissions" export as it comes: the names Canvas, Moodle and Blackboard give the
files (who, which file, which attempt), the notebook a renamed file stands for, the newest of several attempts, and
every other file listed as not graded. Then one `grade` run per LMS over a small zip of the fixture assignment: each
student graded once, under the LMS's id, with the expected score, and a non-zero exit when a file was not graded.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
import zipfile
from datetime import datetime

import nbformat
import pytest
from traitlets.config import Config

from descent_grading import collect, lms, roundtrip

NOTEBOOKS = {"01_loss_functions": ["01_loss_functions"], "99_fixture": ["99_fixture"]}


@pytest.mark.parametrize("path, lms_name, student, filename", [
    ("smithbob_340934_208490284_01_loss_functions.ipynb", lms.CANVAS, "340934", "01_loss_functions.ipynb"),
    ("ñandúzoë_12_99_01_loss_functions.ipynb", lms.CANVAS, "12", "01_loss_functions.ipynb"),
    ("obrienmary_LATE_7_8_01_loss_functions-1.ipynb", lms.CANVAS, "7", "01_loss_functions-1.ipynb"),
    ("obrienmary_late_7_8_notes.pdf", lms.CANVAS, "7", "notes.pdf"),
    ("export/smithbob_340934_208490284_99_fixture (1).ipynb", lms.CANVAS, "340934", "99_fixture (1).ipynb"),
    ("Zoë Ñandú_123456_assignsubmission_file_01_loss_functions.ipynb", lms.MOODLE, "123456",
     "01_loss_functions.ipynb"),
    ("Mary O'Brien_42_assignsubmission_file_01_Loss_Functions.ipynb", lms.MOODLE, "42", "01_Loss_Functions.ipynb"),
    ("Mary O'Brien_42_assignsubmission_file_/01_loss_functions (1).ipynb", lms.MOODLE, "42",
     "01_loss_functions (1).ipynb"),
    ("Mary O'Brien_42_assignsubmission_file/01_loss_functions.ipynb", lms.MOODLE, "42", "01_loss_functions.ipynb"),
    ("A2/Jean-Luc d'Alembert_7_assignsubmission_file_/work/01_loss_functions.ipynb", lms.MOODLE, "7",
     "work/01_loss_functions.ipynb"),
    ("Ada Lovelace_9_assignsubmission_onlinetext_onlinetext.html", lms.MOODLE, "9", "onlinetext: onlinetext.html"),
    ("Participant 1234_assignsubmission_file_01_loss_functions.ipynb", lms.MOODLE, "1234", "01_loss_functions.ipynb"),
    ("99_fixture_jdoe_attempt_2026-11-21-09-30-00_99_fixture.ipynb", lms.BLACKBOARD, "jdoe", "99_fixture.ipynb"),
    ("Loss functions (week 1)_ana.lópez_attempt_2026-11-21-09-30-00_01_loss_functions.ipynb", lms.BLACKBOARD,
     "ana.lópez", "01_loss_functions.ipynb"),
    ("Loss functions_jdoe_attempt_2026-11-21-09-30-00_scratch.ipynb", lms.BLACKBOARD, "jdoe", "scratch.ipynb"),
])
def test_each_lms_names_its_files_by_the_lms_id_and_the_submitted_name(path, lms_name, student, filename):
    named = lms.recognise(path)
    assert (named.lms, named.student, named.filename) == (lms_name, student, filename)
    assert not named.receipt


def test_canvas_marks_late_work_and_orders_attempts_by_submission_id():
    late, early = lms.recognise("obrienmary_LATE_7_8_x.ipynb"), lms.recognise("obrienmary_7_3_x.ipynb")
    assert late.late and not early.late
    assert (late.attempt, early.attempt, late.name) == (8, 3, "obrienmary")


def test_blackboard_stamps_each_attempt_and_its_receipt_is_never_a_submission():
    named = lms.recognise("99_fixture_jdoe_attempt_2026-11-21-09-30-05_99_fixture.ipynb")
    assert named.timestamp == datetime(2026, 11, 21, 9, 30, 5)
    receipt = lms.recognise("99_fixture_jdoe_attempt_2026-11-21-09-30-05.txt")
    assert receipt.receipt and receipt.student == "jdoe" and receipt.lms == lms.BLACKBOARD


@pytest.mark.parametrize("text, name", [
    ("Name: Jo Doe (jdoe)\nAssignment: 99_fixture\nDate Submitted: Friday, 20 November 2026 09:30:00\n", "Jo Doe"),
    ("\ufeffName: Ana María López (jdoe)\r\nAssignment: x\r\n", "Ana María López"),
    ("Name: Someone Else (other)\n", ""),  # another user's receipt names nobody here
    ("Assignment: 99_fixture\n", ""),  # no Name line: the name stays empty, the grade still goes back
])
def test_a_blackboard_receipt_gives_the_students_name_only_when_it_names_that_username(text, name):
    assert lms.receipt_name(text, "jdoe") == name


@pytest.mark.parametrize("path", ["stray.ipynb", "notes.txt", "ada/99_fixture/99_fixture.ipynb",
                                  "ada_2026-11-21T09:00:00Z_99_fixture.ipynb", "01_loss_functions.ipynb",
                                  "Ada_12_assignsubmission_file_", "x_attempt_2026-11-21.txt"])
def test_other_names_are_no_lms_export(path):
    assert lms.recognise(path) is None


@pytest.mark.parametrize("filename, notebook, renamed", [
    ("01_loss_functions.ipynb", "01_loss_functions", False),
    ("01_loss_functions (1).ipynb", "01_loss_functions", True),
    ("01_loss_functions (12).ipynb", "01_loss_functions", True),
    ("01_loss_functions-1.ipynb", "01_loss_functions", True),
    ("01_Loss_Functions.ipynb", "01_loss_functions", True),
    ("99_FIXTURE-2.IPYNB", "99_fixture", True),
])
def test_a_renamed_notebook_is_graded_as_the_assignments_notebook_with_a_notice(filename, notebook, renamed):
    assignment, found, notice = lms.notebook_for(filename, NOTEBOOKS)
    assert (assignment, found) == (notebook, notebook)
    assert bool(notice) == renamed and (not renamed or filename in notice)


@pytest.mark.parametrize("filename", ["notes.pdf", "scratch.ipynb", "01_loss_functions_v2.ipynb", "README",
                                      "01_loss_functions.ipynb.zip"])
def test_other_files_are_no_notebook_of_the_course(filename):
    with pytest.raises(lms.NotANotebook):
        lms.notebook_for(filename, NOTEBOOKS)


def test_copy_numbers_order_a_browsers_and_canvass_copies():
    assert [lms.copy_number(n) for n in ("x.ipynb", "x (1).ipynb", "x-2.ipynb", "01_x.ipynb")] == [0, 1, 2, 0]


def _collect(tmp_path, files: dict) -> collect.Collected:
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return collect.collect(archive, NOTEBOOKS, Config())


def test_a_mixed_export_keeps_each_students_newest_and_lists_the_rest(tmp_path):
    found = _collect(tmp_path, {
        "smithbob_1_10_01_loss_functions.ipynb": b"canvas first",
        "smithbob_1_10_01_loss_functions-1.ipynb": b"canvas resubmitted",
        "smithbob_1_10_notes.pdf": b"%PDF",
        "99_fixture_jdoe_attempt_2026-11-21-09-30-00_99_fixture.ipynb": b"bb newer",
        "99_fixture_jdoe_attempt_2026-11-20-09-30-00_99_fixture.ipynb": b"bb older",
        "99_fixture_jdoe_attempt_2026-11-20-09-30-00.txt": b"Name: J Doe (jdoe)",
        "Zoë Ñandú_5_assignsubmission_file_/01_loss_functions (1).ipynb": b"moodle",
        "Zoë Ñandú_5_assignsubmission_file_/scratch.ipynb": b"scratch",
        "ada/99_fixture/99_fixture.ipynb": b"nbgrader",
        "ada/99_fixture/timestamp.txt": b"2026-11-21 10:00:00",
        "ada/99_fixture/data.csv": b"1,2",  # released with the assignment: not a problem
        "bo/99_fixture/timestamp.txt": b"2026-11-21 10:00:00",
        "bo/99_fixture/answers.docx": b"PK",  # no notebook
        "99_fixture_cy_attempt_2026-11-20-09-30-00.txt": b"Name: Cy (cy)",  # text only: no notebook
        "__MACOSX/._x.ipynb": b"",
        "stray.ipynb": b"?",
    })
    got = {(s.student, s.assignment): s for s in found.submissions}
    assert {key: sub.data for key, sub in got.items()} == {
        ("1", "01_loss_functions"): b"canvas resubmitted", ("jdoe", "99_fixture"): b"bb newer",
        ("5", "01_loss_functions"): b"moodle", ("ada", "99_fixture"): b"nbgrader"}
    assert "2 attempts: graded the newest" in got["1", "01_loss_functions"].notices[0]
    assert "2 attempts: graded the newest" in got["jdoe", "99_fixture"].notices[0]
    assert "graded as 01_loss_functions.ipynb" in got["5", "01_loss_functions"].notices[0]
    assert got["ada", "99_fixture"].timestamp == datetime(2026, 11, 21, 10)
    assert dict(found.exports) == {"Canvas's export": 1, "Blackboard's export": 1, "Moodle's export": 1,
                                   collect.NBGRADER: 1}
    skipped = {s.origin: s.fix for s in found.skipped}
    assert skipped == {"smithbob_1_10_notes.pdf": collect.NOT_NOTEBOOK,
                       "99_fixture_jdoe_attempt_2026-11-20-09-30-00.txt": "",  # a receipt: nothing to fix
                       "Zoë Ñandú_5_assignsubmission_file_/scratch.ipynb": collect.NOT_NOTEBOOK,
                       "bo/99_fixture": collect.NOT_NOTEBOOK,
                       "99_fixture_cy_attempt_2026-11-20-09-30-00.txt": collect.NOT_NOTEBOOK,
                       "stray.ipynb": collect.UNKNOWN}


def test_an_unzipped_export_is_read_like_the_zip(tmp_path):
    folder = tmp_path / "unzipped"
    (folder / "Mary O'Brien_42_assignsubmission_file_").mkdir(parents=True)
    (folder / "Mary O'Brien_42_assignsubmission_file_" / "99_fixture.ipynb").write_bytes(b"moodle")
    (folder / "obrienmary_LATE_7_8_99_fixture.ipynb").write_bytes(b"canvas")
    found = collect.collect(folder, NOTEBOOKS, Config())
    assert {(s.student, s.data) for s in found.submissions} == {("42", b"moodle"), ("7", b"canvas")}
    assert any("Canvas marked it late" in notice for s in found.submissions for notice in s.notices)
    assert not found.skipped


# --- one grading run per LMS ---

GOOD_MEAN = "def mean(values):\n    return float(np.mean(values))"
GOOD_SLOPE = "def slope(f, x, h=1e-5):\n    return (f(x + h) - f(x - h)) / (2 * h)"
WRONG_MEAN = "def mean(values):\n    return 0.0"
WRONG_SLOPE = "def slope(f, x, h=1e-5):\n    return 0.0"
FULL, NO_MEAN, NONE = (GOOD_MEAN, GOOD_SLOPE), (WRONG_MEAN, GOOD_SLOPE), (WRONG_MEAN, WRONG_SLOPE)  # 5, 3, 0 points

EXPORTS = {  # LMS: (files as its zip holds them: answers, or raw bytes), {student id: score}, the exit status
    "Canvas": ({"lovelaceada_1001_5001_99_fixture.ipynb": FULL,
                "ñandúzoë_1002_5002_99_fixture.ipynb": NONE,
                "ñandúzoë_1002_5002_99_fixture-1.ipynb": NO_MEAN,  # resubmitted: newer
                "obrienmary_LATE_1003_5003_99_Fixture.ipynb": NONE,
                "obrienmary_LATE_1003_5003_notes.pdf": b"%PDF-1.4"},  # not graded: exit 1
               {"1001": "5.0", "1002": "3.0", "1003": "0.0"}, 1),
    "Moodle": ({"Zoë Ñandú_2001_assignsubmission_file_99_fixture.ipynb": FULL,
                "Mary O'Brien_2002_assignsubmission_file_/99_fixture (1).ipynb": NO_MEAN,
                "Ada Lovelace_2003_assignsubmission_file_/99_fixture.ipynb": NONE,
                "Ada Lovelace_2003_assignsubmission_file_/scratch.ipynb": FULL},  # not graded: exit 1
               {"2001": "5.0", "2002": "3.0", "2003": "0.0"}, 1),
    "Blackboard": ({"99_fixture_jdoe_attempt_2026-11-20-09-00-00_99_fixture.ipynb": NONE,
                    "99_fixture_jdoe_attempt_2026-11-20-09-00-00.txt": b"Name: Jo Doe (jdoe)",
                    "99_fixture_jdoe_attempt_2026-11-21-09-00-00_99_fixture.ipynb": FULL,  # newer
                    "99_fixture_jdoe_attempt_2026-11-21-09-00-00.txt": b"Name: Jo Doe (jdoe)",
                    "99_fixture_ana.lópez_attempt_2026-11-21-10-00-00_99_fixture.ipynb": NO_MEAN,
                    "99_fixture_ana.lópez_attempt_2026-11-21-10-00-00.txt": "Name: Ana López (ana.lópez)".encode(),
                    "99_fixture_obrien_attempt_2026-11-21-11-00-00_99_fixture.ipynb": NONE},
                   {"jdoe": "5.0", "ana.lópez": "3.0", "obrien": "0.0"}, 0),  # receipts are no problem
}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed (.ci/run installs it): the grader refuses to run without a sandbox")
    folder = tmp_path_factory.mktemp("lms")
    solutions = roundtrip.fixture_solutions(folder / "solutions-source")
    root = roundtrip.new_course(folder / "course", solutions, ["99_fixture"], "\nc.ExecutePreprocessor.timeout = 3\n")
    return root, roundtrip.release(root, "99_fixture", folder / "release")["99_fixture"]


@pytest.mark.parametrize("lms_name", EXPORTS)
def test_an_lms_export_as_downloaded_grades_every_student_under_the_lms_id(lms_name, course, tmp_path):
    root, release = course
    files, scores, status = EXPORTS[lms_name]
    archive = tmp_path / f"{lms_name}.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name, content in files.items():
            if isinstance(content, tuple):
                nb = roundtrip.answered(release, dict(zip(("mean", "slope"), content, strict=True)))
                content = nbformat.writes(nb).encode()
            zf.writestr(name, content)
    run = subprocess.run([sys.executable, "-m", "descent_grading", "grade", str(archive), "--course", str(root)],
                         capture_output=True, text=True, timeout=600)
    out = run.stdout + run.stderr
    with (root / "grades.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert {row["student_id"]: row["score"] for row in rows} == scores, out
    assert run.returncode == status, out
    assert f"Recognised: {lms_name}'s export (3 students)." in run.stdout
    if status:
        assert "To fix: 1 file holding none of this course's notebooks" in run.stdout
    else:
        assert "To fix" not in run.stdout
    if lms_name == "Blackboard":
        assert {row["student_id"]: row["timestamp"] for row in rows}["jdoe"] == "2026-11-21 09:00:00"
        assert "2 attempts: graded the newest" in out


def test_nothing_graded_exits_non_zero_and_says_what_to_fix(course, tmp_path):
    root, _ = course
    archive = tmp_path / "wrong.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("essay.docx", b"PK")
    run = subprocess.run([sys.executable, "-m", "descent_grading", "grade", str(archive), "--course", str(root)],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "To fix: 1 file matching no known export" in run.stdout
    assert "To fix: nothing was graded" in run.stdout

