"""The grading pipeline against broken and hostile submissions: all graded in ONE `grade` run, each with the outcome
it must get (from grades.csv and the feedback page), once as you (root: the uid-per-slot sandbox) and once as an
unprivileged user (bubblewrap in a user namespace). Then the student's self-check and what students receive.

The fixture assignment (tests/fixtures/grading) has two parts: `mean` (test_mean, 2 points) and `slope` (test_slope,
3 points), and withholds `descent.numerics.numerical_grad`. Every submission is its release with some answers and
some tampering. The rule every attack is held to: a wrong answer scores what the plain wrong answer scores (3 with
a wrong `mean`, 2 with a wrong `slope`), whatever it does in its own process.
"""

from __future__ import annotations

import hashlib
import html
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from descent_grading import roundtrip
from descent_grading.check import check
from descent_grading.grade import grade_class
from descent_grading.sandbox import allow_list

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 3  # seconds per cell, for this test course only
HIDDEN = ("hidden_case_7f3a", "hidden_probe_7f3a", "BEGIN HIDDEN TESTS", "the slope of sin at 0 is 1")
UNPRIVILEGED = 65534  # nobody

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


def rename(cells, nb):
    cells["test_mean"].metadata.nbgrader["grade_id"] = "test_mean_v2"


def duplicate(cells, nb):
    def copy(cell):
        return nbformat.v4.new_code_cell(cell.source, metadata=nbformat.from_dict(dict(cell.metadata)))
    nb.cells.insert(nb.cells.index(cells["test_slope"]), copy(cells["test_mean"]))
    nb.cells.append(copy(cells["test_slope"]))


def reorder(cells, nb):
    part2 = [cells[key] for key in ("part2", "slope", "test_slope")]
    for cell in part2:
        nb.cells.remove(cell)
    nb.cells[1:1] = part2


def fake_outputs(cells, nb):
    for key in ("test_mean", "test_slope"):
        cells[key].outputs = [nbformat.v4.new_output("stream", name="stdout", text="all tests passed\n")]
        cells[key].execution_count = 3


def attack_files(paths: dict) -> str:
    """An answer that tries to read the grader's files, the host's processes, other sandboxes' homes and /tmp, and
    to write another student's files: `mean` is right only if every read failed, `slope` only if every write did."""
    return f"""
import glob, os
leaked, wrote = [], []
for path in {paths['read']!r}:
    try:
        with open(path, 'rb') as handle:
            leaked.append(handle.read(10))
    except OSError:
        pass
for pattern in {paths['list']!r}:
    leaked += glob.glob(pattern)
for pid in os.listdir('/proc'):
    try:
        with open(f'/proc/{{pid}}/cmdline', 'rb') as handle:
            command = handle.read()
        if b'descent_grading' in command or b'pytest' in command or b'--ro-bind' in command:
            leaked.append(pid)
    except OSError:
        pass
leaked += [name for name in os.listdir('/tmp') if name not in {paths['tmp']!r}]
leaked += [name for name in os.listdir('/home') if name != 'student']
for path in {paths['write']!r}:
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


PATCH_ALL = ("import math\nnp.isclose = lambda *a, **k: True\nnp.allclose = lambda *a, **k: True\n"
             "math.isclose = lambda *a, **k: True\n")
FRAMES = """import sys
class Peek:
    def _expected(self):
        frame = sys._getframe()
        while frame:
            if 'expected' in frame.f_locals:
                return frame.f_locals['expected']
            frame = frame.f_back
        return 0.0
    def __array__(self, dtype=None, copy=None):
        return np.asarray(self._expected())
    def __float__(self):
        return float(self._expected())
    def __eq__(self, other):
        return True
    def __len__(self):
        return 1
    __hash__ = object.__hash__
def mean(values):
    return Peek()"""
TAMPER = """import builtins, gc, sys
for obj in gc.get_objects():
    if isinstance(obj, dict) and 'expect_close' in obj:
        obj['expect_close'] = lambda *a, **k: None
builtins.AssertionError = type('AssertionError', (Exception,), {})
import descent.feedback
descent.feedback.expect_close = lambda *a, **k: None
descent.feedback.expect_close.__code__ = (lambda *a, **k: None).__code__
sys.modules['descent.feedback'] = type(sys)('descent.feedback')
""" + WRONG_MEAN
THREAD = """import threading, time, math
def patch():
    while True:
        np.isclose = np.allclose = math.isclose = lambda *a, **k: True
        time.sleep(0.001)
threading.Thread(target=patch, daemon=True).start()
""" + WRONG_MEAN
SUBCLASSES = """class Close(float):
    def __eq__(self, other):
        return True
    def __sub__(self, other):
        return Close(0.0)
    __rsub__ = __sub__
    __hash__ = float.__hash__
class Array(np.ndarray):
    def __eq__(self, other):
        return np.ones(np.shape(other), bool)
def mean(values):
    return Close(0.0)
def slope(f, x, h=1e-5):
    return np.zeros(1).view(Array)"""
REFERENCE = ("from descent.numerics import numerical_grad\n"
             "def slope(f, x, h=1e-5):\n    return float(numerical_grad(f, x))")
REFERENCE_DYNAMIC = """import importlib, glob, sys
def slope(f, x, h=1e-5):
    for path in glob.glob('/opt/**/numerics.py', recursive=True) + [p + '/descent/numerics.py' for p in sys.path]:
        try:
            spec = importlib.util.spec_from_file_location('real', path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return float(module.numerical_grad(f, x))
        except Exception:
            pass
    module = importlib.import_module('descent.num' + 'erics')
    return float(getattr(module, 'numerical' + '_grad')(f, x))"""
FORK_STORM = """import os, time
def mean(values):
    while True:
        try:
            if os.fork() == 0:
                while True:
                    try:
                        os.fork()
                    except OSError:
                        time.sleep(0.01)
        except OSError:
            return 0.0"""
IGNORE_SIGINT = "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    time.sleep(0.1)"

CASES = {  # student: (submission, score, what its feedback must say)
    "correct": (edit(), 5, "passed"),
    "zoë ñandú": (edit(), 5, "passed"),  # ids as Moodle writes them
    "untouched": (edit(mean=None, slope=None), 0, "not answered yet"),
    "partial": (edit(slope="def slope(f, x, h=1e-5):\n    return (f(x + h) - f(x - h)) / h"), 2,
                "expected 6.0 but got 12.0"),
    "wrong_mean": (edit(mean=WRONG_MEAN), 3, "expected 2.0 but got 0.0"),
    "wrong_both": (edit(mean=WRONG_MEAN, slope=WRONG_SLOPE), 0, "expected 6.0 but got 0.0"),
    # broken submissions: graded, with a reason, keeping what they earned before
    "loop": (edit(mean="def mean(values):\n    while True:\n        pass"), 3, "time limit"),
    "stubborn_loop": (edit(slope="import time\ndef slope(f, x, h=1e-5):\n    while True:\n        try:\n"
                                 "            time.sleep(0.1)\n        except KeyboardInterrupt:\n            pass"),
                      2, "did not stop when interrupted"),
    "ignores_sigint": (edit(slope=IGNORE_SIGINT), 2, "did not stop when interrupted"),
    "process_exit": (edit(slope="import os\nos._exit(1)"), 2, "exited"),
    "kill_parent": (edit(slope="import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nos.kill(-1, signal.SIGKILL)"),
                    2, "name 'slope' is not defined"),  # the sandbox's pid 1 ignores it; -1 reaches no one
    "fork_storm": (edit(mean=FORK_STORM), 3, "left processes running"),
    "memory_12gb": (edit(mean="def mean(values):\n    return float(np.ones(12 * 2**30 // 8).sum())"), 3,
                    "MemoryError"),
    "invalid_json": (lambda release: b'{"cells": [', 0, "not a valid notebook"),
    "empty": (lambda release: b"", 0, "empty"),
    "megabytes": (edit(mean=GOOD_MEAN + "\nfor _ in range(60):\n    print('x' * 100_000)"), 5, "more than 1 MB"),
    # tampering with the notebook: the instructor's cells come from the gradebook
    "deleted_test": (edit(mean=WRONG_MEAN, change=delete("test_mean")), 3, "was missing: it was put back and run"),
    "edited_test": (edit(mean=WRONG_MEAN, change=set_source("test_mean", "pass")), 3, "had been edited"),
    "retyped_test": (edit(slope=WRONG_SLOPE, change=retype), 2, "had been turned into markdown"),
    "points_tampered": (edit(change=set_points), 5, "claimed 100 points"),
    "renamed_test": (edit(mean=WRONG_MEAN, change=rename), 3, "was missing: it was put back and run"),
    "duplicated_tests": (edit(mean=WRONG_MEAN, change=duplicate), 3, "expected 2.0 but got 0.0"),
    "reordered_parts": (edit(change=reorder), 5, "passed"),
    "fake_outputs": (edit(mean=WRONG_MEAN, slope=WRONG_SLOPE, change=fake_outputs), 0, "expected 2.0 but got 0.0"),
    # attacks on the tests: nothing done in the student's process changes what the harness sees
    "patch_numpy_math": (edit(mean=PATCH_ALL + WRONG_MEAN, slope=WRONG_SLOPE), 0, "expected 2.0 but got 0.0"),
    "patch_inside_answer": (edit(mean="def mean(values):\n    " + PATCH_ALL.replace("\n", "\n    ") + "return 0.0"),
                            3, "expected 2.0 but got 0.0"),
    "patch_from_thread": (edit(mean=THREAD), 3, "expected 2.0 but got 0.0"),
    "tamper_builtins_gc_modules": (edit(mean=TAMPER), 3, "expected 2.0 but got 0.0"),
    "shadow_checker": (edit(mean="def expect_close(*args, **kwargs):\n    pass\n" + WRONG_MEAN), 3,
                       "expected 2.0 but got 0.0"),
    "frame_peeking": (edit(mean=FRAMES), 3, "returned a Peek object"),
    "subclasses": (edit(mean=SUBCLASSES.replace("def slope", "def _slope"), slope=SUBCLASSES), 0,
                   "returned a Close object"),
    "always_equal": (edit(mean="class Anything:\n    def __eq__(self, other):\n        return True\n"
                               "    __hash__ = object.__hash__\n\ndef mean(values):\n    return Anything()"), 3,
                     "returned a Anything object"),
    "reference_import": (edit(slope=REFERENCE), 2, "not available while 99_fixture is graded"),
    "reference_dynamic": (edit(slope=REFERENCE_DYNAMIC), 2, "not available while 99_fixture is graded"),
}


def _open_to(uid: int, path: Path) -> None:
    for item in [path, *path.rglob("*")]:
        os.chown(item, uid, uid, follow_symlinks=False)


def unprivileged(command: list[str], work: Path) -> list[str]:
    """``command`` as the user nobody, seeing this Python and the repository: folders on the way that only root may
    enter (/root, where pyenv lives) are covered in a private mount namespace by a tmpfs holding just those paths."""
    needed = sorted({os.path.realpath(p) for p in (sys.base_prefix, sys.prefix, ROOT, work)})
    closed = {path: next((str(p) for p in reversed(Path(path).parents)
                          if str(p) != "/" and os.stat(p).st_mode & 0o005 != 0o005), None) for path in needed}
    moved = [path for path in needed if closed[path]]
    script = ["set -e", "mount -t tmpfs tmpfs /mnt"]  # private to this mount namespace, like every mount below
    for index, path in enumerate(moved):  # keep a view of each path, cover what hides it, put the path back
        script += [f"mkdir -p /mnt/{index}", f"mount --bind '{path}' /mnt/{index}"]
    script += [f"mount -t tmpfs -o mode=755 tmpfs '{top}'" for top in sorted({closed[path] for path in moved})]
    for index, path in enumerate(moved):
        script += [f"mkdir -p '{path}'", f"mount --bind /mnt/{index} '{path}'"]
    script.append(f'exec setpriv --reuid={UNPRIVILEGED} --regid={UNPRIVILEGED} --clear-groups --reset-env -- '
                  f'env HOME={work}/home "$@"')
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", "\n".join(script), "sh", *command]


def grade_everything(folder: Path, as_user: int | None) -> dict:
    solutions = roundtrip.fixture_solutions(folder / "solutions-source")
    root = roundtrip.new_course(folder / "course", solutions, ["99_fixture"],
                                f"\nc.ExecutePreprocessor.timeout = {TIMEOUT}\n")
    release = roundtrip.release(root, "99_fixture", folder / "release")["99_fixture"]
    submitted = folder / "submitted"
    victim = submitted / "correct" / "99_fixture" / "99_fixture.ipynb"
    paths = {"read": [str(root / "solutions" / "99_fixture" / "99_fixture.ipynb"), str(root / "gradebook.db"),
                      str(victim), str(ROOT / "src" / "descent" / "numerics.py"), "/etc/shadow"],
             "list": [str(root / "*"), str(submitted / "*"), str(ROOT / "solutions" / "*"), str(ROOT / ".git" / "*")],
             "write": [str(victim), str(root / "gradebook.db"), str(root / "grades.csv"), str(root / "x")],
             # in /tmp: matplotlib's cache, and the way to a venv under /tmp (a CI checkout), which is readable
             "tmp": ["matplotlib", *(Path(path).parts[2] for path in allow_list() if path.startswith("/tmp/"))]}
    cases = {**CASES, "attack_files": (edit(mean=attack_files(paths), slope="# slope is defined above"), 5, "passed")}
    for student, (build, _, _) in cases.items():
        notebook = submitted / student / "99_fixture" / "99_fixture.ipynb"
        notebook.parent.mkdir(parents=True)
        notebook.write_bytes(build(release))
    (submitted / "correct" / "99_fixture" / "timestamp.txt").write_text("2026-11-21T11:30:00+01:00")
    before = {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in submitted.rglob("*") if path.is_file()}
    command = [sys.executable, "-m", "descent_grading", "grade", str(submitted), "--course", str(root)]
    if as_user is not None:
        (folder / "home").mkdir()
        _open_to(as_user, folder)
        os.chmod(folder, 0o755)
        command = unprivileged(command, folder)
    run = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=folder)
    after = {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in submitted.rglob("*") if path.is_file()}
    rows = {row["student_id"]: row for row in _csv(root / "grades.csv")} if (root / "grades.csv").exists() else {}
    return {"root": root, "rows": rows, "run": run, "cases": cases, "release": release, "unchanged": before == after}


@pytest.fixture(scope="module", params=["as_you", "unprivileged"])
def graded(request, tmp_path_factory):
    """One `python -m descent_grading grade` run over every case, as you and as an unprivileged user."""
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed (.ci/run installs it): the grader refuses to run without a sandbox")
    as_user = None
    if request.param == "unprivileged":
        if os.geteuid() != 0:
            pytest.skip("already unprivileged: the 'as_you' run is the unprivileged one")
        as_user = UNPRIVILEGED
    folder = tmp_path_factory.mktemp(request.param)
    return grade_everything(folder, as_user)


def _csv(path):
    import csv

    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def feedback(graded, student) -> str:
    return (graded["root"] / "feedback" / student / "99_fixture" / "99_fixture.html").read_text(encoding="utf-8")


def test_one_run_grades_every_submission_and_exits_cleanly(graded):
    assert graded["run"].returncode == 0, graded["run"].stdout + graded["run"].stderr
    assert set(graded["rows"]) == set(graded["cases"])


@pytest.mark.parametrize("student", [*CASES, "attack_files"])
def test_each_submission_gets_its_outcome_and_says_what_happened(graded, student):
    _, expected, message = graded["cases"][student]
    row = graded["rows"][student]
    assert float(row["score"]) == expected, html.unescape(feedback(graded, student))
    assert float(row["max_score"]) == 5
    assert message in html.unescape(feedback(graded, student))


def test_the_summary_says_which_sandbox_ran(graded):
    expected = "bubblewrap, as root" if os.geteuid() == 0 and "unprivileged" not in str(graded["root"]) else \
        "bubblewrap in a user namespace"
    assert f"Sandbox: {expected}" in graded["run"].stdout


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
        text = html.unescape(page.read_text(encoding="utf-8"))
        assert not [marker for marker in HIDDEN if marker in text], page
        assert "Traceback" not in text, page
        if page.parts[-3] not in ("duplicated_tests", "renamed_test"):  # these pasted test code among their answers
            assert "mean([1, 2, 3]), 2.0" not in text, page  # no test code, visible or not
    release = nbformat.writes(graded["release"])
    assert not [marker for marker in HIDDEN if marker in release]


def test_feedback_shows_each_test_with_points_and_message(graded):
    page = feedback(graded, "partial")
    assert "test_mean" in page and "2 / 2" in page
    assert "test_slope" in page and "0 / 3" in page
    assert "slope of x² at 3: expected 6.0 but got 12.0 — " in html.unescape(page)  # and descent.feedback's hint


def test_summary_names_each_problem_and_who_used_withheld_functions(graded):
    out = graded["run"].stdout
    assert f"Graded {len(graded['cases'])} submission notebook(s)" in out
    assert "process_exit/99_fixture: 2/5" in out and "exited" in out
    assert "invalid_json/99_fixture: 0/5" in out
    flagged = out.split("Used withheld descent functions", 1)[1]
    assert "reference_import/99_fixture: descent.numerics.numerical_grad" in flagged
    assert "reference_dynamic/99_fixture: descent.numerics.numerical_grad" in flagged
    assert "correct/" not in flagged


def test_the_gradebook_is_private_to_the_grader(graded):
    assert (graded["root"] / "gradebook.db").stat().st_mode & 0o077 == 0


def test_a_zip_from_an_lms_with_iso_timestamps_keeps_each_students_newest(graded, tmp_path):
    import zipfile

    if "unprivileged" in str(graded["root"]):
        pytest.skip("the zip path is the same as you and unprivileged")
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


def test_check_prints_each_parts_visible_result_and_says_hidden_parts_run_when_graded(graded, tmp_path):
    nb = nbformat.reads(CASES["partial"][0](graded["release"]).decode(), as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "test_mean":
            cell.metadata["tags"] = ["hidden-tests"]
    notebook = tmp_path / "99_fixture.ipynb"
    nbformat.write(nb, notebook)
    out = io.StringIO()
    assert check(notebook, graded["root"], out) == 1
    lines = out.getvalue().splitlines()
    assert any(line.split()[:2] == ["✓", "test_mean"] and "visible part passed; hidden part runs when graded" in line
               for line in lines), out.getvalue()
    assert any(line.split()[:2] == ["✗", "test_slope"] and "expected 6.0 but got 12.0" in line for line in lines)
    assert "1 of 2 parts pass their visible tests" in out.getvalue()
