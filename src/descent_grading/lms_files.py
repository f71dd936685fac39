"""What each LMS imports, written next to ``grades.csv`` for the students of its export (grades in points):

- ``grades-canvas.csv``: Canvas's gradebook import (Grades > Import). Canvas reads the header ``Student``, ``ID``,
  ``SIS User ID``, ``SIS Login ID``, ``Section``, then one column per assignment, and a ``Points Possible`` row; it
  finds each student by ``ID`` (the Canvas user id of the export's file names). An assignment column is matched by
  ``Name (assignment id)``, else by a Canvas assignment of exactly that name, else Canvas creates an assignment of
  that name with those points (checked in Canvas's GradebookImporter source; the export's file names do not carry the
  assignment id, so the column is the course's assignment name: name the Canvas assignment like it).
- ``grades-moodle-<assignment>.csv``: Moodle's offline grading worksheet (Assignment > "Upload grading worksheet"),
  one per assignment. Moodle reads the columns ``Identifier`` (``Participant <participant id>``), ``Grade``,
  ``Last modified (grade)`` and ``Feedback comments`` by these English names (checked in Moodle's
  assignfeedback_offline importer: a Moodle in another language names them in that language); the other columns are
  what its own worksheet shows, for the reader. A grade changed in Moodle after ``Last modified (grade)`` is kept
  unless "Allow updating records that have been modified more recently in Moodle" is ticked.
- ``feedback-moodle-<assignment>.zip``: Moodle's "Upload multiple feedback files in a zip": a folder per student named
  like the export's ``<Full Name>_<participant id>_assignsubmission_file_`` (Moodle reads the id between the first
  two ``_``), holding the student's feedback pages.
- ``grades-blackboard.csv``: Blackboard's Grade Center upload (Work Offline > Upload), every field quoted as its
  comma-delimited format requires. Blackboard finds each student by ``Username`` and a column by the ``|<column id>``
  ending its header; the export does not carry that id, so each assignment comes as a column without one, which
  Blackboard adds as a new (text) column. Last Name and First Name come from the student's receipt (empty without
  one: Blackboard matches rows by Username alone).

Canvas and Blackboard have no bulk upload of new feedback files (Canvas's "re-upload submissions" only takes back
annotated copies of the files students submitted, under their names): their students' pages stay in ``feedback/``.
"""

from __future__ import annotations

import csv
import io
import os
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from .lms import BLACKBOARD, CANVAS, MOODLE


@dataclass(frozen=True)
class Graded:
    """One student's grade for one assignment, on its way back to the LMS it came from."""
    lms: str
    student: str  # the LMS's id
    name: str  # as the export wrote it
    assignment: str
    score: float
    max_score: float
    tests: tuple[tuple[str, float, float], ...] = ()  # (test, score, points)
    feedback: tuple[Path, ...] = ()  # the student's feedback pages for this assignment


def _points(value: float) -> str:
    return f"{value:g}"


def _csv(rows: Iterable[list], quoting=csv.QUOTE_MINIMAL) -> str:
    out = io.StringIO()
    csv.writer(out, quoting=quoting, lineterminator="\n").writerows(rows)
    return out.getvalue()


def canvas(graded: list[Graded]) -> str:
    assignments = sorted({g.assignment for g in graded})
    top = {g.assignment: g.max_score for g in graded}
    rows = [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *assignments],
            ["Points Possible", "", "", "", "", *(_points(top[a]) for a in assignments)]]
    for student in sorted({g.student for g in graded}):
        mine = {g.assignment: g for g in graded if g.student == student}
        name = next(iter(mine.values())).name
        rows.append([name, student, "", "", "", *(_points(mine[a].score) if a in mine else "" for a in assignments)])
    return _csv(rows)


MOODLE_COLUMNS = ["Identifier", "Full name", "Email address", "Status", "Grade", "Maximum Grade",
                  "Grade can be changed", "Last modified (submission)", "Last modified (grade)", "Feedback comments"]


def comment(g: Graded) -> str:
    tests = "; ".join(f"{name}: {_points(score)}/{_points(points)}" for name, score, points in g.tests)
    return f"{_points(g.score)}/{_points(g.max_score)} points" + (f" ({tests})" if tests else "") + "."


def moodle(graded: list[Graded], now: datetime) -> str:
    """The worksheet for one assignment. ``now`` stamps ``Last modified (grade)`` (read with PHP's strtotime)."""
    stamp = now.astimezone(UTC).isoformat(timespec="seconds")
    rows = [MOODLE_COLUMNS] + [[f"Participant {g.student}", g.name, "", "", f"{g.score:.2f}", f"{g.max_score:.2f}",
                                "Yes", "", stamp, comment(g)] for g in sorted(graded, key=lambda g: int(g.student))]
    return _csv(rows)


def moodle_folder(g: Graded) -> str:
    name = g.name.replace("_", " ").replace("/", " ").strip() or "Participant"  # Moodle splits the folder at "_"
    return f"{name}_{g.student}_assignsubmission_file_"


def blackboard(graded: list[Graded]) -> str:
    assignments = sorted({g.assignment for g in graded})
    rows = [["Last Name", "First Name", "Username", *assignments]]
    for student in sorted({g.student for g in graded}):
        mine = {g.assignment: g for g in graded if g.student == student}
        first, _, last = next(iter(mine.values())).name.rpartition(" ")  # from the receipt; Blackboard matches Username
        rows.append([last, first, student, *(_points(mine[a].score) if a in mine else "" for a in assignments)])
    return _csv(rows, csv.QUOTE_ALL)


def _private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _zip(graded: list[Graded]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for g in sorted(graded, key=lambda g: int(g.student)):
            for page in g.feedback:
                archive.writestr(f"{moodle_folder(g)}/{page.name}", page.read_bytes())
    return out.getvalue()


def write(root: Path, graded: list[Graded], now: datetime | None = None) -> list[Path]:
    """Write each LMS's files for the students it exported; returns the files written."""
    now = now or datetime.now(UTC)
    by_lms = {lms: [g for g in graded if g.lms == lms] for lms in (CANVAS, MOODLE, BLACKBOARD)}
    files: dict[Path, bytes] = {}
    if by_lms[CANVAS]:
        files[root / "grades-canvas.csv"] = canvas(by_lms[CANVAS]).encode()
    if by_lms[BLACKBOARD]:
        files[root / "grades-blackboard.csv"] = blackboard(by_lms[BLACKBOARD]).encode()
    for assignment in sorted({g.assignment for g in by_lms[MOODLE]}):
        mine = [g for g in by_lms[MOODLE] if g.assignment == assignment]
        files[root / f"grades-moodle-{assignment}.csv"] = moodle(mine, now).encode()
        if any(g.feedback for g in mine):
            files[root / f"feedback-moodle-{assignment}.zip"] = _zip(mine)
    for path, data in files.items():
        _private(path, data)
    return list(files)
