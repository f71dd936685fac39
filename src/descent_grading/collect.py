"""Find the submissions in a folder or a zip, and copy each into a private folder; the submitted files are only ever
read. Recognised without configuration: the "download all submissions" exports of Canvas, Moodle and Blackboard (by
their file names, see ``lms``) and nbgrader's own ``<student_id>/<assignment>/<notebook>.ipynb``; any other naming
through ``FileNameCollectorPlugin.named_regexp`` in nbgrader_config.py (as ``nbgrader zip_collect`` reads it).
Every other file is listed as not graded, with what to do about it.
"""

from __future__ import annotations

import os
import unicodedata
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath

from nbgrader.plugins.zipcollect import FileNameCollectorPlugin
from nbgrader.utils import parse_utc

from . import lms
from .plan import MAX_NOTEBOOK_BYTES

NBGRADER = "nbgrader's <student>/<assignment>/<notebook>.ipynb"
NAMED = "FileNameCollectorPlugin.named_regexp"
UNKNOWN = ("matching no known export (Canvas, Moodle, Blackboard, " + NBGRADER + "): set " + NAMED
           + " in nbgrader_config.py to read their names")
NOT_NOTEBOOK = "holding none of this course's notebooks: grade by hand, or ask the student for the .ipynb"
UNREADABLE = "that could not be read: download the export again"
BAD_ID = "naming no usable student id: lay them out as <student>/<assignment>/<notebook>.ipynb"


class _Unknown(ValueError):
    """A file laid out for an assignment this course does not have."""


@dataclass
class Submission:
    student: str
    assignment: str
    notebook: str  # the assignment's notebook name, without .ipynb
    origin: str  # where it came from, for messages
    timestamp: datetime | None = None
    data: bytes = b""
    notices: list[str] = field(default_factory=list)  # e.g. "graded as 01_x.ipynb"
    export: str = NBGRADER  # which export it was recognised in
    order: tuple = ()  # orders a student's attempts at one notebook: the greatest is the newest
    lms: str = ""  # the LMS whose export it came from (lms.CANVAS...), empty for nbgrader's layout and named_regexp
    name: str = ""  # the student's name as the LMS wrote it


@dataclass
class Skipped:
    origin: str
    reason: str
    fix: str = ""  # what the instructor can do about such files; empty when nothing needs doing (a receipt)


@dataclass
class Collected:
    submissions: list[Submission]
    skipped: list[Skipped]
    exports: Counter  # export -> students recognised in it


def check_student_id(student: str) -> str:
    """The id, if it can name a student's folder: any printable text (letters of any script, digits, spaces,
    ``._@+-'``...) but path separators and control characters; ValueError otherwise."""
    bad = [c for c in student if c in "/\\" or unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp")]
    if bad or student.strip() in ("", ".", "..") or student != student.strip() or len(student) > 200:
        shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in student[:80])
        raise ValueError(f"'{shown}' is not a usable student id: it may hold letters, digits, spaces and ._@+-' "
                         "but no path separator (/ or \\) or control character, and not begin or end with a space")
    return student


def _timestamp(text: str | None, notices: list[str]) -> datetime | None:
    if not text or not text.strip():
        return None
    try:
        return parse_utc(text.strip())
    except (ValueError, OverflowError):
        notices.append(f"unreadable timestamp {text.strip()[:40]!r}: graded without one")
        return None


class _Files:
    """The files of a folder or a zip, by "/"-separated path inside it (hidden files and macOS's __MACOSX left out)."""

    def __init__(self, path: Path):
        self.zip = zipfile.ZipFile(path) if not path.is_dir() else None
        self.root = path
        if self.zip:
            names = [m.filename for m in self.zip.infolist() if not m.is_dir()]
        else:
            names = [p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()]
        self.names = sorted(n for n in names if not any(part.startswith(".") or part == "__MACOSX"
                                                         for part in PurePosixPath(n).parts))

    def read(self, name: str, limit: int = MAX_NOTEBOOK_BYTES + 1) -> bytes:
        with (self.zip.open(name) if self.zip else (self.root / name).open("rb")) as handle:
            return handle.read(limit)

    def close(self) -> None:
        if self.zip:
            self.zip.close()


def _nbgrader(name: str, notebooks: dict, files: _Files) -> Submission:
    """A file laid out as nbgrader's ``<student>/<assignment>/<notebook>.ipynb``."""
    student, assignment, filename = PurePosixPath(name).parts[-3:]
    if assignment not in notebooks:
        raise _Unknown(f"no assignment '{assignment}' in this course")
    folder = str(PurePosixPath(name).parent)
    try:
        _, notebook, notice = lms.notebook_for(filename, notebooks, assignment)
    except ValueError:  # the only notebook of a one-notebook assignment, whatever its name
        siblings = [n for n in files.names if str(PurePosixPath(n).parent) == folder and n.endswith(".ipynb")]
        if not (len(notebooks[assignment]) == 1 and siblings == [name]):
            raise
        notebook = notebooks[assignment][0]
        notice = f"the notebook was named '{filename}': graded as {notebook}.ipynb"
    stamp_name = f"{folder}/timestamp.txt"
    stamp = files.read(stamp_name, 100).decode(errors="replace") if stamp_name in files.names else None
    notices = [notice] if notice else []
    return Submission(student, assignment, notebook, name, _timestamp(stamp, notices), notices=notices,
                      order=(0, lms.copy_number(filename)))


def _from_lms(name: str, named: lms.Named, notebooks: dict) -> Submission:
    assignment, notebook, notice = lms.notebook_for(named.filename, notebooks)
    notices = [notice] if notice else []
    if named.late:
        notices.append(f"{named.lms} marked it late")
    return Submission(named.student, assignment, notebook, name, named.timestamp, notices=notices,
                      export=f"{named.lms}'s export", order=(named.attempt, lms.copy_number(named.filename)),
                      lms=named.lms, name=named.name)


def _one(name: str, notebooks: dict, files: _Files, collector) -> Submission | Skipped | None:
    """The submission a file holds, or why it is not graded (None: a file read along with another)."""
    path = PurePosixPath(name)
    in_nbgrader_layout = len(path.parts) >= 3 and path.parts[-2] in notebooks
    named = None if in_nbgrader_layout and path.stem in notebooks[path.parts[-2]] else lms.recognise(name)
    if not named and in_nbgrader_layout and path.suffix != ".ipynb":
        return None  # timestamp.txt, or a data file released with the assignment
    if named and named.receipt:
        return Skipped(name, f"{named.lms}'s receipt for {named.student}'s attempt: never graded")
    try:
        if named:
            sub = _from_lms(name, named, notebooks)
        elif collector.named_regexp and (info := collector.collect(name)):
            filename = PurePosixPath(info["file_id"]).name
            assignment, notebook, notice = lms.notebook_for(filename, notebooks)
            notices = [notice] if notice else []
            sub = Submission(info["student_id"], assignment, notebook, name,
                             _timestamp(info.get("timestamp"), notices), notices=notices, export=NAMED,
                             order=(0, lms.copy_number(filename)))
        elif len(path.parts) >= 3 and path.suffix == ".ipynb":
            sub = _nbgrader(name, notebooks, files)
        else:
            return Skipped(name, "a name no export gives", UNKNOWN)
        check_student_id(sub.student)
    except lms.NotANotebook as error:
        return Skipped(name, str(error), NOT_NOTEBOOK)
    except _Unknown as error:
        return Skipped(name, str(error), UNKNOWN)
    except ValueError as error:
        return Skipped(name, str(error), BAD_ID)
    try:
        sub.data = files.read(name)
    except (KeyError, zipfile.BadZipFile, OSError, RuntimeError) as error:
        return Skipped(name, str(error), UNREADABLE)
    return sub


def latest(submissions: list[Submission]) -> list[Submission]:
    """One submission per student, assignment and notebook: the newest (by timestamp, then attempt, then copy
    number), with a notice naming the attempts left out."""
    attempts: dict = {}
    for sub in submissions:
        attempts.setdefault((sub.student, sub.assignment, sub.notebook), []).append(sub)
    chosen = []
    for subs in attempts.values():
        subs.sort(key=lambda s: (s.timestamp or datetime.min, s.order))
        newest = subs[-1]
        if len(subs) > 1:
            others = ", ".join(s.origin for s in subs[:-1])
            newest.notices.insert(0, f"{len(subs)} attempts: graded the newest ({newest.origin}), not {others}")
        chosen.append(newest)
    return sorted(chosen, key=lambda s: (s.assignment, s.student, s.notebook))


def collect(path: Path, notebooks: dict, config) -> Collected:
    """Submissions from a folder or a zip; ``notebooks`` maps each assignment to its notebook names."""
    if not path.is_dir() and not zipfile.is_zipfile(path):
        raise ValueError(f"{path} is neither a folder nor a zip file")
    collector = FileNameCollectorPlugin(config=config)
    files = _Files(path)
    try:
        found = [_one(name, notebooks, files, collector) for name in files.names]
        names = _receipt_names(files, found)
    finally:
        files.close()
    submissions = latest([f for f in found if isinstance(f, Submission)])
    for sub in submissions:
        sub.name = sub.name or names.get((sub.lms, sub.student), "")
    exports = Counter(export for export, _ in {(sub.export, sub.student) for sub in submissions})
    skipped = [f for f in found if isinstance(f, Skipped)] + _without_notebook(files.names, notebooks)
    graded = {sub.student for sub in submissions}
    for skip in skipped:  # a receipt is no problem, unless its student submitted no notebook at all
        named = lms.recognise(skip.origin)
        if named and named.receipt and named.student not in graded:
            skip.reason, skip.fix = f"{named.lms}'s receipt for {named.student}: no notebook came with it", NOT_NOTEBOOK
    return Collected(submissions, skipped, exports)


def _receipt_names(files: _Files, found: list) -> dict[tuple[str, str], str]:
    """(LMS, student id) -> the student's name, from the receipts among the files (an unreadable one gives none)."""
    names = {}
    for skip in (f for f in found if isinstance(f, Skipped)):
        named = lms.recognise(skip.origin)
        if named and named.receipt:
            try:
                text = files.read(skip.origin, limit=65536).decode("utf-8", errors="replace")
            except (KeyError, zipfile.BadZipFile, OSError, RuntimeError):
                continue
            names[named.lms, named.student] = lms.receipt_name(text, named.student) or names.get(
                (named.lms, named.student), "")
    return names


def _without_notebook(names: list[str], notebooks: dict) -> list[Skipped]:
    """nbgrader's assignment folders holding no notebook (a student who submitted something else)."""
    folders: dict = {}
    for name in names:
        path = PurePosixPath(name)
        if len(path.parts) >= 3 and path.parts[-2] in notebooks and not lms.recognise(name):
            folders[str(path.parent)] = folders.get(str(path.parent), False) or path.suffix == ".ipynb"
    return [Skipped(folder, "no .ipynb file in this folder", NOT_NOTEBOOK) for folder, has in folders.items()
            if not has]


def stage(submission: Submission, folder: Path, index: int) -> str:
    """A private copy for the grader to read (the original is never opened again)."""
    path = folder / f"{index:05d}.ipynb"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(submission.data)
    return str(path)
