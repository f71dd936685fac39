"""The course as the grader sees it: nbgrader's configuration, the assignments in ``solutions/``, each notebook's
instructor cells as ``nbgrader generate_assignment`` records them in the gradebook, the ``descent`` names it
withholds, and the gradebook where grades are recorded (with the lock that lets several graders share it).
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook
from nbgrader.apps.api import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import SAWarning
from sqlalchemy.pool import NullPool
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from .plan import SourceCell, kind_of
from .run import Result
from .withhold import withheld_names

CSV_COLUMNS = ["assignment", "duedate", "timestamp", "student_id", "last_name", "first_name", "email", "raw_score",
               "late_submission_penalty", "score", "max_score"]  # nbgrader export's columns, in its order


class GradebookLock:
    """Lets graders on several machines share one PostgreSQL gradebook. nbgrader creates the tables, the course,
    assignment and notebook rows by looking first and inserting after, and it replaces a notebook's rows while no
    submission refers to them: two graders at once fail on the rows the other just created, or one removes a
    notebook under the submission the other is recording. ``held()`` takes a PostgreSQL advisory lock (on this
    object's own connection, opened on first use) around such steps; for other databases it does nothing (a SQLite
    gradebook serves one grader at a time)."""

    KEY = 0x64657363656E74  # "descent": one lock per database, shared by every grader of the course

    def __init__(self, db_url: str):
        self.db_url, self.connection = db_url, None

    @contextmanager
    def held(self) -> Iterator[None]:
        if make_url(self.db_url).get_backend_name() != "postgresql":
            yield
            return
        if self.connection is None:
            engine = create_engine(self.db_url, poolclass=NullPool)
            self.connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        self.connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": self.KEY})
        try:
            yield
        finally:
            self.connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.KEY})

    def __enter__(self) -> GradebookLock:
        return self

    def __exit__(self, *exc) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


@dataclass(frozen=True)
class Notebook:
    """One notebook of an assignment, as the instructor wrote it."""
    cells: tuple[SourceCell, ...]
    withheld: tuple[str, ...]


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


def source_notebooks(config: Config, assignment: str, release: Path) -> dict[str, Notebook]:
    """Run ``nbgrader generate_assignment`` (into the private folder ``release``, not ``exercises/``; into the
    course's gradebook, holding its lock) and return each notebook's instructor cells, in order, with the full
    source of its tests."""
    config = Config(config)
    config.CourseDirectory.release_directory = str(release)
    coursedir = CourseDirectory(config=config)
    with GradebookLock(coursedir.db_url) as lock, lock.held():  # another grader may be writing these rows
        outcome = NbGraderAPI(coursedir=coursedir, config=config).generate_assignment(assignment, force=True,
                                                                                      create=True)
        if not outcome["success"]:
            raise RuntimeError(f"nbgrader generate_assignment {assignment} failed:\n{outcome.get('log', '')[-3000:]}")
        return _stored_notebooks(coursedir, assignment, release)


def _stored_notebooks(coursedir: CourseDirectory, assignment: str, release: Path) -> dict[str, Notebook]:
    notebooks = {}
    with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
        for path in sorted((release / assignment).glob("*.ipynb")):
            stored = gb.find_notebook(path.stem, assignment)
            sources = {cell.name: cell.source for cell in stored.source_cells}
            points = {cell.name: cell.max_score for cell in stored.grade_cells}
            released = nbformat.read(path, as_version=4)
            source = nbformat.read(Path(coursedir.root) / coursedir.source_directory / assignment / path.name,
                                   as_version=4)
            cells = tuple(SourceCell(meta["grade_id"], kind_of(meta), cell.cell_type, sources[meta["grade_id"]],
                                     cell.source, points.get(meta["grade_id"]))
                          for cell in released.cells
                          if (meta := cell.metadata.get("nbgrader", {})).get("grade_id") in sources)
            notebooks[path.stem] = Notebook(cells, tuple(withheld_names(source)))
    return notebooks


def record(gb: Gradebook, result: Result, timestamp) -> None:
    """Store the auto-grades in the gradebook."""
    gb.update_or_create_student(result.student)
    with warnings.catch_warnings():  # nbgrader 0.9.6 with SQLAlchemy 2 warns about its own autoflush
        warnings.simplefilter("ignore", SAWarning)
        gb.update_or_create_submission(result.assignment, result.student, timestamp=timestamp)
    for test in result.tests:
        entry = gb.find_grade(test.name, result.notebook, result.assignment, result.student)
        entry.auto_score, entry.needs_manual_grade = test.score, False
    gb.db.commit()


def row_of(submission) -> dict:
    """A gradebook submission (``gb.find_submission``) as its grades.csv row, as nbgrader exports it."""
    student, assignment = submission.student, submission.assignment
    row = {"assignment": assignment.name, "duedate": assignment.duedate, "timestamp": submission.timestamp,
           "student_id": student.id, "last_name": student.last_name, "first_name": student.first_name,
           "email": student.email, "raw_score": submission.score,
           "late_submission_penalty": submission.late_submission_penalty,
           "score": max(0.0, submission.score - (submission.late_submission_penalty or 0.0)),
           "max_score": assignment.max_score}
    return {key: "" if value is None else str(value) for key, value in row.items()}
