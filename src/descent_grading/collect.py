"""Find the submissions in a folder (nbgrader's ``<student_id>/<assignment>/<notebook>.ipynb``) or in a zip exported
by an LMS (files named by ``FileNameCollectorPlugin.named_regexp`` in nbgrader_config.py, as ``nbgrader
zip_collect`` reads them), and copy each into a private folder. The submitted files are only ever read.
"""

from __future__ import annotations

import os
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from nbgrader.plugins.zipcollect import FileNameCollectorPlugin
from nbgrader.utils import parse_utc

from .plan import MAX_NOTEBOOK_BYTES


@dataclass
class Submission:
    student: str
    assignment: str
    notebook: str  # the assignment's notebook name, without .ipynb
    origin: str  # where it came from, for messages
    timestamp: datetime | None = None
    data: bytes = b""
    notice: str = ""  # e.g. "graded as 01_x.ipynb"


@dataclass
class Skipped:
    origin: str
    reason: str


def _timestamp(text: str | None, origin: str, skipped: list) -> datetime | None:
    if not text or not text.strip():
        return None
    try:
        return parse_utc(text.strip())
    except (ValueError, OverflowError):
        skipped.append(Skipped(origin, f"unreadable timestamp {text.strip()[:40]!r}: graded without one"))
        return None


def check_student_id(student: str) -> str:
    """The id, if it can name a student's folder: any printable text (letters of any script, digits, spaces,
    ``._@+-'``...) but path separators and control characters; ValueError otherwise."""
    bad = [c for c in student if c in "/\\" or unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp")]
    if bad or student.strip() in ("", ".", "..") or student != student.strip() or len(student) > 200:
        shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in student[:80])
        raise ValueError(f"'{shown}' is not a usable student id: it may hold letters, digits, spaces and ._@+-' "
                         "but no path separator (/ or \\) or control character, and not begin or end with a space")
    return student


def _match(student: str, assignment: str, filename: str, notebooks: dict, origin: str, others: int):
    """(notebook, notice) for a file, or raise ValueError saying why it cannot be graded."""
    check_student_id(student)
    if assignment not in notebooks:
        raise ValueError(f"no assignment '{assignment}' in this course")
    stem = PurePosixPath(filename).stem
    if stem in notebooks[assignment]:
        return stem, ""
    if len(notebooks[assignment]) == 1 and others == 1:  # e.g. "01_x (1).ipynb" from a download
        expected = notebooks[assignment][0]
        return expected, f"the notebook was named '{filename}': graded as {expected}.ipynb"
    raise ValueError(f"'{filename}' is not a notebook of {assignment} (expected {', '.join(notebooks[assignment])})")


def from_folder(root: Path, notebooks: dict) -> tuple[list[Submission], list[Skipped]]:
    submissions, skipped = [], []
    for student_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for assignment_dir in sorted(p for p in student_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
            files = sorted(p for p in assignment_dir.glob("*.ipynb") if p.is_file())
            origin = f"{student_dir.name}/{assignment_dir.name}"
            if not files:
                skipped.append(Skipped(origin, "no .ipynb file in this folder"))
            stamp_file = assignment_dir / "timestamp.txt"
            stamp = stamp_file.read_text(errors="replace")[:100] if stamp_file.is_file() else None
            for path in files:
                try:
                    notebook, notice = _match(student_dir.name, assignment_dir.name, path.name, notebooks, origin,
                                              len(files))
                    with path.open("rb") as handle:
                        data = handle.read(MAX_NOTEBOOK_BYTES + 1)
                except (ValueError, OSError) as error:
                    skipped.append(Skipped(f"{origin}/{path.name}", str(error)))
                    continue
                stamped = _timestamp(stamp, origin, skipped)
                submissions.append(Submission(student_dir.name, assignment_dir.name, notebook,
                                              f"{origin}/{path.name}", stamped, data, notice))
    return submissions, skipped


def from_zip(archive: Path, notebooks: dict, config) -> tuple[list[Submission], list[Skipped]]:
    """Files named as the LMS exports them (``named_regexp``), or laid out as nbgrader's submitted folder."""
    collector = FileNameCollectorPlugin(config=config)
    owner = {name: assignment for assignment, names in notebooks.items() for name in names}
    submissions, skipped = [], []
    with zipfile.ZipFile(archive) as zf:
        members = [m for m in zf.infolist() if not m.is_dir() and m.filename.endswith(".ipynb")
                   and "__MACOSX" not in m.filename and not PurePosixPath(m.filename).name.startswith(".")]
        for member in members:
            parts = PurePosixPath(member.filename).parts
            info = collector.collect(member.filename) if collector.named_regexp else None
            try:
                if info:
                    file_id = PurePosixPath(info["file_id"]).name
                    stem = PurePosixPath(file_id).stem
                    assignment = owner.get(stem) or ""
                    notebook, notice = _match(info["student_id"], assignment or f"(for {file_id})", file_id,
                                              notebooks, member.filename, 0)
                    student, stamp = info["student_id"], info.get("timestamp")
                elif len(parts) >= 3:
                    student, assignment = parts[-3], parts[-2]
                    siblings = sum(PurePosixPath(m.filename).parent == PurePosixPath(member.filename).parent
                                   for m in members)
                    notebook, notice = _match(student, assignment, parts[-1], notebooks, member.filename, siblings)
                    stamp_name = str(PurePosixPath(member.filename).parent / "timestamp.txt")
                    stamp = zf.read(stamp_name)[:100].decode(errors="replace") if stamp_name in zf.namelist() \
                        else None
                else:
                    raise ValueError("the name matches neither the LMS pattern (FileNameCollectorPlugin.named_regexp "
                                     "in nbgrader_config.py) nor <student>/<assignment>/<notebook>.ipynb")
                with zf.open(member) as handle:
                    data = handle.read(MAX_NOTEBOOK_BYTES + 1)
            except (ValueError, KeyError, zipfile.BadZipFile, OSError, RuntimeError) as error:
                skipped.append(Skipped(member.filename, str(error)))
                continue
            submissions.append(Submission(student, assignment, notebook, member.filename,
                                          _timestamp(stamp, member.filename, skipped), data, notice))
    return latest(submissions), skipped


def latest(submissions: list[Submission]) -> list[Submission]:
    """One submission per student, assignment and notebook: the newest (as zip_collect keeps it)."""
    chosen: dict = {}
    for sub in submissions:
        key = (sub.student, sub.assignment, sub.notebook)
        old = chosen.get(key)
        if old is None or (sub.timestamp or datetime.min) >= (old.timestamp or datetime.min):
            chosen[key] = sub
    return sorted(chosen.values(), key=lambda s: (s.assignment, s.student, s.notebook))


def collect(path: Path, notebooks: dict, config) -> tuple[list[Submission], list[Skipped]]:
    """Submissions from a folder or a zip; ``notebooks`` maps each assignment to its notebook names."""
    if path.is_dir():
        return from_folder(path, notebooks)
    if zipfile.is_zipfile(path):
        return from_zip(path, notebooks, config)
    raise ValueError(f"{path} is neither a folder nor a zip file")


def stage(submission: Submission, folder: Path, index: int) -> str:
    """A private copy for the grader to read (the original is never opened again)."""
    path = folder / f"{index:05d}.ipynb"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(submission.data)
    return str(path)
