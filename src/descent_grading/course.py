"""``make grade``: collect a class's submissions, grade them in parallel sandboxes, record the grades in nbgrader's
gradebook, write ``grades.csv`` and ``feedback/<student>/<assignment>/<notebook>.html`` at the course root, and
close with a summary.
"""

from __future__ import annotations

import csv
import multiprocessing
import multiprocessing.util
import os
import shutil
import sys
import tempfile
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook
from sqlalchemy.exc import SAWarning
from nbgrader.apps.api import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from . import collect as collecting
from . import feedback, grade
from . import sandbox as sandboxes

CSV_COLUMNS = ["assignment", "duedate", "timestamp", "student_id", "last_name", "first_name", "email", "raw_score",
               "late_submission_penalty", "score", "max_score"]  # nbgrader export's columns, in its order


def load_config(root: Path) -> Config:
    config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    config.CourseDirectory.root = str(root)  # whatever the file says, grade the course it is in
    return config


def venv_on_path() -> None:
    """nbgrader runs ``alembic`` from PATH when it creates a gradebook: make it this venv's."""
    venv_bin = os.path.dirname(sys.executable)
    if venv_bin not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = venv_bin + os.pathsep + os.environ.get("PATH", "")


def cell_timeout(config: Config) -> int:
    return int(config.ExecutePreprocessor.get("timeout", 30) or 30)


def course_notebooks(coursedir: CourseDirectory) -> dict[str, list[str]]:
    """Each assignment in the source folder (``solutions/``) with its notebooks' names."""
    source = Path(coursedir.root) / coursedir.source_directory
    return {folder.name: sorted(path.stem for path in folder.glob("*.ipynb"))
            for folder in sorted(source.iterdir()) if folder.is_dir() and list(folder.glob("*.ipynb"))}


def source_cells(config: Config, assignment: str, release: Path) -> dict[str, tuple[grade.SourceCell, ...]]:
    """Run ``nbgrader generate_assignment`` (into a private folder, not ``exercises/``; into the course's gradebook)
    and return each notebook's instructor cells, in order, with the full source of its tests."""
    config = Config(config)
    config.CourseDirectory.release_directory = str(release)
    coursedir = CourseDirectory(config=config)
    outcome = NbGraderAPI(coursedir=coursedir, config=config).generate_assignment(assignment, force=True, create=True)
    if not outcome["success"]:
        raise RuntimeError(f"nbgrader generate_assignment {assignment} failed:\n{outcome.get('log', '')[-3000:]}")
    cells = {}
    with Gradebook(coursedir.db_url) as gb:
        for path in sorted((release / assignment).glob("*.ipynb")):
            stored = {cell.name: cell for cell in gb.find_notebook(path.stem, assignment).source_cells}
            graded = {cell.name: cell.max_score for cell in gb.find_notebook(path.stem, assignment).grade_cells}
            released = nbformat.read(path, as_version=4)
            cells[path.stem] = tuple(
                grade.SourceCell(meta["grade_id"], grade.kind_of(meta), cell.cell_type,
                                 stored[meta["grade_id"]].source, cell.source, graded.get(meta["grade_id"]))
                for cell in released.cells if (meta := cell.metadata.get("nbgrader", {})).get("grade_id") in stored)
    return cells


# -- the worker processes --------------------------------------------------------------------------------------------
_KERNELS: grade.Kernels | None = None


def _init_worker(slots, sandbox: sandboxes.Sandbox, homes: str) -> None:
    """Each worker gets its own slot (its sandbox user) and keeps the next kernel booting."""
    global _KERNELS
    _KERNELS = grade.Kernels(sandbox, slots.get(), homes)
    multiprocessing.util.Finalize(_KERNELS, _KERNELS.close, exitpriority=10)
    _KERNELS.prime()


def _grade(job: grade.Job) -> grade.Result:
    return grade.grade_notebook(job, _KERNELS)


# -- recording --------------------------------------------------------------------------------------------------------
def record(gb: Gradebook, result: grade.Result, timestamp) -> dict:
    """Store the auto-grades in the gradebook and return the submission's grades.csv row, as nbgrader exports it."""
    gb.update_or_create_student(result.student)
    with warnings.catch_warnings():  # nbgrader 0.9.6 with SQLAlchemy 2 warns about its own autoflush
        warnings.simplefilter("ignore", SAWarning)
        submission = gb.update_or_create_submission(result.assignment, result.student, timestamp=timestamp)
    for test in result.tests:
        entry = gb.find_grade(test["name"], result.notebook, result.assignment, result.student)
        entry.auto_score, entry.needs_manual_grade = test["score"], False
    gb.db.commit()
    student, assignment = submission.student, submission.assignment
    row = {"assignment": assignment.name, "duedate": assignment.duedate, "timestamp": submission.timestamp,
           "student_id": student.id, "last_name": student.last_name, "first_name": student.first_name,
           "email": student.email, "raw_score": submission.score,
           "late_submission_penalty": submission.late_submission_penalty,
           "score": max(0.0, submission.score - (submission.late_submission_penalty or 0.0)),
           "max_score": assignment.max_score}
    return {key: "" if value is None else str(value) for key, value in row.items()}


def _write_private(path: Path, text: str) -> None:
    """Readable by the grader only (autograded notebooks hold the hidden tests)."""
    for folder in reversed([path.parent, *path.parent.parents]):
        if not folder.exists():
            folder.mkdir(mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


class Progress:
    """A one-line progress bar on stderr (one line per notebook when stderr is not a terminal)."""

    def __init__(self, total: int, stream=sys.stderr):
        self.total, self.done, self.stream, self.start = total, 0, stream, time.monotonic()
        self.tty = stream.isatty()

    def step(self, label: str) -> None:
        self.done += 1
        width = 24
        bar = "#" * (width * self.done // max(self.total, 1))
        line = f"[{bar:<{width}}] {self.done}/{self.total} {time.monotonic() - self.start:5.1f}s {label}"
        self.stream.write(("\r" + line[:110].ljust(110)) if self.tty else line + "\n")
        if self.tty and self.done == self.total:
            self.stream.write("\n")
        self.stream.flush()


@dataclass
class Summary:
    results: list = field(default_factory=list)
    skipped: list = field(default_factory=list)  # collecting.Skipped
    failed: list = field(default_factory=list)  # (origin, reason): not graded
    sandbox: sandboxes.Sandbox | None = None
    seconds: float = 0.0
    jobs: int = 1

    def text(self, root: Path) -> str:
        graded = len(self.results)
        per = self.seconds / graded if graded else 0.0
        lines = [f"Graded {graded} submission notebook(s) in {self.seconds:.1f} s with {self.jobs} worker(s) "
                 f"({per:.2f} s each): {root / 'grades.csv'} and {root / 'feedback'}/"]
        if self.sandbox:
            lines.append(f"Sandbox: {self.sandbox.describe()}.")
        problems = [r for r in self.results if r.notices or r.score < r.max_score]
        if problems:
            lines.append("Graded with problems:")
            for r in problems:
                failing = [f"{t['name']}: {t['message']}" for t in r.tests if t["score"] < t["max_score"]]
                lines.append(f"  {r.student}/{r.assignment}: {r.score:g}/{r.max_score:g}"
                             + "".join(f"\n      {line}" for line in [*r.notices, *failing][:6]))
        if self.skipped or self.failed:
            lines.append("Not graded:")
            lines += [f"  {s.origin}: {s.reason}" for s in self.skipped]
            lines += [f"  {origin}: {reason}" for origin, reason in self.failed]
        flagged = [r for r in self.results if r.review]
        if flagged:
            lines.append("To review (names a pure-function answer rarely needs):")
            lines += [f"  {r.student}/{r.assignment}: {', '.join(r.review)}" for r in flagged]
        return "\n".join(lines)


def grade_class(root: Path, submissions: Path, jobs: int = 2, stream=sys.stderr) -> Summary:
    """Grade every submission in ``submissions`` (a folder or a zip) for the course at ``root``."""
    start = time.monotonic()
    venv_on_path()
    root, submissions = root.resolve(), submissions.resolve()
    config = load_config(root)
    coursedir = CourseDirectory(config=config)
    notebooks = course_notebooks(coursedir)
    found, skipped = collecting.collect(submissions, notebooks, config)
    summary = Summary(skipped=skipped, jobs=jobs)
    work = Path(tempfile.mkdtemp(prefix="descent-grade-"))
    try:
        os.chmod(work, 0o711)  # kernels may pass through to their homes; nothing here can be listed
        staging, homes, release = work / "staging", work / "homes", work / "release"
        staging.mkdir(mode=0o700)
        homes.mkdir(mode=0o711)
        release.mkdir(mode=0o700)
        db_file = coursedir.db_url.removeprefix("sqlite:///") if coursedir.db_url.startswith("sqlite:///") else None
        hidden = [root / coursedir.source_directory, root / ".git", root / "feedback", root / "autograded",
                  root / coursedir.submitted_directory, root / "grades.csv", staging, release, submissions]
        hidden += [Path(db_file)] if db_file else []
        sandbox = summary.sandbox = sandboxes.prepare(jobs, [str(path) for path in hidden], str(homes))
        if sandbox.warning and sandbox.level == "none":
            stream.write(f"warning: {sandbox.describe()}\n")
        timeout = cell_timeout(config)
        pool = _pool(jobs, sandbox, str(homes)) if found else None  # its kernels boot while nbgrader generates
        truth = {name: source_cells(config, name, release) for name in sorted({sub.assignment for sub in found})}
        if db_file and os.path.exists(db_file):
            os.chmod(db_file, 0o600)
        job_list = [grade.Job(sub.student, sub.assignment, sub.notebook, collecting.stage(sub, staging, index),
                              sub.timestamp and sub.timestamp.isoformat(), truth[sub.assignment][sub.notebook],
                              timeout, sandbox, str(homes))
                    for index, sub in enumerate(found)]
        extra = {(sub.student, sub.assignment, sub.notebook): sub for sub in found}
        rows = _run(pool, job_list, jobs, root, coursedir, extra, summary, stream)
        _write_csv(root / "grades.csv", rows)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    summary.seconds = time.monotonic() - start
    return summary


def _pool(jobs: int, sandbox: sandboxes.Sandbox, homes: str) -> ProcessPoolExecutor:
    """Worker processes, each already booting its first kernel."""
    context = multiprocessing.get_context("fork")  # the workers start with everything imported
    slots = context.Queue()
    for slot in range(jobs):
        slots.put(slot)
    pool = ProcessPoolExecutor(jobs, mp_context=context, initializer=_init_worker, initargs=(slots, sandbox, homes))
    pool.submit(int)  # starts every worker (fork starts them all at once)
    return pool


def _run(pool, job_list, jobs, root, coursedir, extra, summary, stream) -> list[dict]:
    rows: dict = {}
    progress = Progress(len(job_list), stream)
    pending = list(job_list)
    while pending:  # a broken pool (a worker killed from outside) is replaced once and its notebooks retried
        retry = []
        pool = pool or _pool(jobs, pending[0].sandbox, pending[0].homes)
        with pool:
            futures = {pool.submit(_grade, job): job for job in pending}
            with Gradebook(coursedir.db_url) as gb:  # opened after the workers forked: they never touch it
                for future in as_completed(futures):
                    job = futures[future]
                    try:
                        result = future.result()
                    except BrokenProcessPool:
                        retry.append(job)
                        continue
                    except Exception as error:  # reported, never turned into a grade
                        result = grade.Result(job.student, job.assignment, job.notebook, job.timestamp,
                                              failure=f"{type(error).__name__}: {error}")
                    if row := _finish(result, extra, gb, root, summary):
                        rows[row["assignment"], row["student_id"]] = row  # the last notebook's row has the total
                    progress.step(f"{result.student}/{result.assignment} "
                                  + (f"{result.score:g}/{result.max_score:g}" if not result.failure else "NOT GRADED"))
        if retry and len(retry) == len(pending):
            summary.failed += [(f"{job.student}/{job.assignment}", "the grading worker crashed") for job in retry]
            break
        pending, pool = retry, None
    return [rows[key] for key in sorted(rows)]


def _finish(result: grade.Result, extra: dict, gb: Gradebook, root: Path, summary: Summary) -> dict | None:
    if result.failure:
        summary.failed.append((f"{result.student}/{result.assignment}/{result.notebook}.ipynb", result.failure))
        return None
    sub = extra[(result.student, result.assignment, result.notebook)]
    if sub.notice:
        result.notices.insert(0, sub.notice)
    summary.results.append(result)
    where = Path(result.student) / result.assignment / f"{result.notebook}"
    _write_private(root / "feedback" / where.with_suffix(".html"), feedback.render(result, result.answers))
    if result.executed is not None:
        _write_private(root / "autograded" / where.with_suffix(".ipynb"), nbformat.writes(result.executed))
    return record(gb, result, sub.timestamp)


def _write_csv(path: Path, rows: list[dict]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
