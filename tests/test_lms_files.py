"""What goes back to the LMS, read the way each LMS reads it, and grading past one machine.

Each LMS file is checked against the rules its importer applies (Canvas's GradebookImporter, Moodle's
assignfeedback_offline and assignfeedback_file importers, Blackboard's Grade Center upload: see lms_files). Then one
mixed export (Canvas, Moodle and Blackboard students in one zip) is graded as an instructor would: once in one run,
and once in two shards into a second course's gradebook followed by `report`: the same grades.csv and LMS files.
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import nbformat
import pytest
from hypothesis import given
from hypothesis import strategies as st

from descent_grading import lms, lms_files, roundtrip, shard
from descent_grading.lms_files import Graded

NOW = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)
TESTS = (("test_mean", 0.0, 2.0), ("test_slope", 3.0, 3.0))
CLASS = [Graded(lms.CANVAS, "1001", "lovelaceada", "99_fixture", 5.0, 5.0),
         Graded(lms.CANVAS, "1002", "ñandúzoë", "99_fixture", 3.0, 5.0),
         Graded(lms.CANVAS, "1002", "ñandúzoë", "01_loss_functions", 7.5, 10.0),
         Graded(lms.MOODLE, "2001", "Zoë Ñandú", "99_fixture", 3.0, 5.0, TESTS),
         Graded(lms.MOODLE, "2002", "Mary O'Brien_Smith", "99_fixture", 0.0, 5.0),
         Graded(lms.BLACKBOARD, "ana.lópez", "", "99_fixture", 3.0, 5.0)]


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_canvas_finds_each_student_by_id_and_each_assignment_column_with_its_points():
    header, points, *students = rows(lms_files.canvas([g for g in CLASS if g.lms == lms.CANVAS]))
    # Canvas's header check: Student, ID, then SIS User ID, SIS Login ID and Section; assignments after Section
    assert header[:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert header[5:] == ["01_loss_functions", "99_fixture"]
    assert "Points Possible" in points[0] and points[5:] == ["10", "5"]
    by_id = {row[1]: dict(zip(header, row, strict=True)) for row in students}
    assert by_id["1001"]["99_fixture"] == "5" and by_id["1001"]["01_loss_functions"] == ""  # not submitted: blank
    assert (by_id["1002"]["Student"], by_id["1002"]["01_loss_functions"]) == ("ñandúzoë", "7.5")


def test_moodles_worksheet_names_each_participant_and_the_grade_it_reads():
    header, *body = rows(lms_files.moodle([g for g in CLASS if g.lms == lms.MOODLE], NOW))
    # the importer finds these three columns by name; the id is what follows "Participant "
    assert {"Identifier", "Grade", "Last modified (grade)", "Feedback comments"} <= set(header)
    got = [dict(zip(header, row, strict=True)) for row in body]
    assert [(row["Identifier"].removeprefix("Participant "), row["Grade"], row["Maximum Grade"]) for row in got] == [
        ("2001", "3.00", "5.00"), ("2002", "0.00", "5.00")]
    assert datetime.fromisoformat(got[0]["Last modified (grade)"]) == NOW
    assert got[0]["Feedback comments"] == "3/5 points (test_mean: 0/2; test_slope: 3/3)."


def test_moodles_feedback_zip_has_a_folder_per_participant_named_as_its_importer_splits_it(tmp_path):
    page = tmp_path / "99_fixture.html"
    page.write_text("<p>feedback</p>")
    graded = [Graded(g.lms, g.student, g.name, g.assignment, g.score, g.max_score, g.tests, (page,))
              for g in CLASS if g.lms == lms.MOODLE]
    written = lms_files.write(tmp_path, graded, NOW)
    assert sorted(path.name for path in written) == ["feedback-moodle-99_fixture.zip", "grades-moodle-99_fixture.csv"]
    with zipfile.ZipFile(tmp_path / "feedback-moodle-99_fixture.zip") as archive:
        names = archive.namelist()
        assert archive.read(names[0]) == b"<p>feedback</p>"
    folders = [name.split("/")[0].split("_", 4) for name in names]  # Moodle: explode('_', $pathpart, 5)
    assert [(info[1], info[2], info[3]) for info in folders] == [("2001", "assignsubmission", "file"),
                                                                ("2002", "assignsubmission", "file")]
    assert folders[1][0] == "Mary O'Brien Smith"


def test_blackboard_reads_usernames_and_every_field_quoted():
    text = lms_files.blackboard([g for g in CLASS if g.lms == lms.BLACKBOARD])
    assert text.splitlines() == ['"Last Name","First Name","Username","99_fixture"', '"","","ana.lópez","3"']


@pytest.mark.parametrize("text, expected", [("1/1", (1, 1)), ("2/4", (2, 4)), (" 3 / 3 ", (3, 3))])
def test_a_shard_is_i_of_n(text, expected):
    got = shard.parse(text)
    assert (got.index, got.count) == expected


@pytest.mark.parametrize("text", ["0/2", "3/2", "x", "1/0", "2", "-1/2", "1/2/3", ""])
def test_a_shard_outside_1_to_n_is_refused_naming_the_value(text):
    with pytest.raises(ValueError, match=f"SHARD='{text}' is not a shard: write i/n with 1 <= i <= n"):
        shard.parse(text)


@given(st.lists(st.text(min_size=1, max_size=12), max_size=30, unique=True), st.integers(1, 9))
def test_every_student_is_in_exactly_one_shard(students, count):
    for student in students:
        assert sum(shard.Shard(i, count).holds(student) for i in range(1, count + 1)) == 1


def test_a_shard_is_the_same_on_every_machine():
    """Python's own hash changes per process; the shard must not."""
    code = "from descent_grading.shard import Shard; print([Shard(1, 3).holds(str(s)) for s in range(40)])"
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")}
    assert len(outs) == 1 and "True" in outs.pop()


# --- a class graded in one run, and in two shards then reported ---

GOOD = {"mean": "def mean(values):\n    return float(np.mean(values))",
        "slope": "def slope(f, x, h=1e-5):\n    return (f(x + h) - f(x - h)) / (2 * h)"}
NO_MEAN = {**GOOD, "mean": "def mean(values):\n    return 0.0"}
SCORES = {"1001": GOOD, "1002": NO_MEAN, "2001": NO_MEAN, "2002": GOOD, "jdoe": GOOD, "ana.lópez": NO_MEAN}
EXPORT = {"lovelaceada_1001_5001_99_fixture.ipynb": "1001",
          "ñandúzoë_LATE_1002_5002_99_fixture-1.ipynb": "1002",
          "Zoë Ñandú_2001_assignsubmission_file_/99_fixture (1).ipynb": "2001",
          "Mary O'Brien_2002_assignsubmission_file_99_fixture.ipynb": "2002",
          "99_fixture_jdoe_attempt_2026-11-21-09-00-00_99_fixture.ipynb": "jdoe",
          "99_fixture_jdoe_attempt_2026-11-21-09-00-00.txt": None,
          "99_fixture_ana.lópez_attempt_2026-11-21-10-00-00_99_fixture.ipynb": "ana.lópez"}


def grade(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "descent_grading", *args, "--course", str(root)],
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Course A grades the export in one run; course B in shards 1/2 and 2/2, reporting in between and after."""
    import shutil

    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed (.ci/run installs it): the grader refuses to run without a sandbox")
    folder = tmp_path_factory.mktemp("lms-files")
    solutions = roundtrip.fixture_solutions(folder / "solutions-source")
    config = "\nc.ExecutePreprocessor.timeout = 3\n"
    one, two = (roundtrip.new_course(folder / name, solutions, ["99_fixture"], config) for name in ("one", "two"))
    release = roundtrip.release(one, "99_fixture", folder / "release")["99_fixture"]
    archive = folder / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name, student in EXPORT.items():
            data = nbformat.writes(roundtrip.answered(release, SCORES[student])) if student else "Name: Jo Doe (jdoe)"
            zf.writestr(name, data)
    out = {"one": grade(one, "grade", str(archive)), "shard1": grade(two, "grade", str(archive), "--shard", "1/2"),
           "early": grade(two, "report", str(archive)), "shard2": grade(two, "grade", str(archive), "--shard", "2/2"),
           "report": grade(two, "report", str(archive))}
    return one, two, out


def test_one_run_writes_grades_csv_and_each_lms_file_with_the_graded_scores(runs):
    one, _, out = runs
    assert out["one"].returncode == 0, out["one"].stdout + out["one"].stderr
    with (one / "grades.csv").open(encoding="utf-8") as handle:
        scores = {row["student_id"]: row["score"] for row in csv.DictReader(handle)}
    assert scores == {"1001": "5.0", "1002": "3.0", "2001": "3.0", "2002": "5.0", "jdoe": "5.0", "ana.lópez": "3.0"}
    canvas = rows((one / "grades-canvas.csv").read_text(encoding="utf-8"))
    assert [(row[1], row[5]) for row in canvas[2:]] == [("1001", "5"), ("1002", "3")]
    moodle = rows((one / "grades-moodle-99_fixture.csv").read_text(encoding="utf-8"))
    assert [(row[0], row[4]) for row in moodle[1:]] == [("Participant 2001", "3.00"), ("Participant 2002", "5.00")]
    assert rows((one / "grades-blackboard.csv").read_text(encoding="utf-8"))[1:] == [
        ["", "", "ana.lópez", "3"], ["Doe", "Jo", "jdoe", "5"]]  # the name from jdoe's receipt; ana sent none
    with zipfile.ZipFile(one / "feedback-moodle-99_fixture.zip") as archive:
        page = archive.read("Zoë Ñandú_2001_assignsubmission_file_/99_fixture.html")
    assert page == (one / "feedback" / "2001" / "99_fixture" / "99_fixture.html").read_bytes()
    assert "Wrote: grades.csv, grades-canvas.csv, grades-blackboard.csv, grades-moodle-99_fixture.csv, " \
           "feedback-moodle-99_fixture.zip" in out["one"].stdout


def test_two_shards_grade_each_student_once_and_leave_the_class_files_to_report(runs):
    _, _, out = runs
    counts = []
    for name in ("shard1", "shard2"):
        run = out[name]
        assert run.returncode == 0, run.stdout + run.stderr
        counts.append(int(run.stdout.split(f"Shard {name[-1]}/2: ", 1)[1].split(" of 6 students")[0]))
        assert "Wrote:" not in run.stdout
    assert sum(counts) == 6 and 0 not in counts  # six students, split between two shards (not 6 + 0 here)


def test_report_before_every_shard_is_done_exits_non_zero_and_names_who_is_missing(runs):
    _, _, out = runs
    early = out["early"]
    assert early.returncode == 1, early.stdout + early.stderr
    assert "No grade in the gradebook:" in early.stdout and "To fix: " in early.stdout


def test_two_shards_then_report_give_the_same_grades_as_one_run(runs):
    one, two, out = runs
    assert out["report"].returncode == 0, out["report"].stdout + out["report"].stderr
    assert "Reported 6 grade(s) from the gradebook" in out["report"].stdout
    for name in ("grades.csv", "grades-canvas.csv", "grades-blackboard.csv"):
        assert (two / name).read_text(encoding="utf-8") == (one / name).read_text(encoding="utf-8"), name
    stamp = lms_files.MOODLE_COLUMNS.index("Last modified (grade)")
    sheets = [[row[:stamp] + row[stamp + 1:] for row in rows((course / "grades-moodle-99_fixture.csv").read_text())]
              for course in (one, two)]
    assert sheets[0] == sheets[1]


@pytest.fixture
def empty_course(tmp_path):
    return roundtrip.new_course(tmp_path / "course", tmp_path, [])


@pytest.mark.parametrize("command", [["grade", "--shard", "3/2"], ["grade", "--shard", "x"]])
def test_a_bad_shard_is_refused_before_anything_is_graded(empty_course, command):
    run = grade(empty_course, command[0], str(empty_course), *command[1:])
    assert run.returncode == 2 and f"SHARD='{command[2]}' is not a shard" in run.stderr


@pytest.mark.parametrize("command", ["grade", "report"])
def test_a_file_that_is_no_export_ends_with_an_error_not_a_traceback(empty_course, command):
    (empty_course / "notes.txt").write_text("not a zip")
    run = grade(empty_course, command, str(empty_course / "notes.txt"))
    assert run.returncode == 2 and "is neither a folder nor a zip file" in run.stderr
    assert "Traceback" not in run.stderr
