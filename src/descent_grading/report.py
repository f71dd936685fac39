"""What grading leaves behind: ``grades.csv`` and each LMS's import files (``lms_files``), both from the gradebook, a
feedback page per submission (``feedback/``), the executed notebooks for instructors (``autograded/``, hidden tests
included: readable by the grader's user only), a progress line while it runs, and the closing summary.
"""

from __future__ import annotations

import csv
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.coursedir import CourseDirectory

from . import feedback, lms_files
from .course import CSV_COLUMNS, row_of
from .run import Result


def write_private(path: Path, text: str) -> None:
    """Write a file readable by the grader's user only (in folders it creates private too)."""
    for folder in reversed([path.parent, *path.parent.parents]):
        if not folder.exists():
            folder.mkdir(mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def write_result(root: Path, result: Result) -> None:
    where = Path(result.student) / result.assignment / result.notebook
    write_private(root / "feedback" / f"{where}.html", feedback.render(result))
    if result.executed is not None:
        write_private(root / "autograded" / f"{where}.ipynb", nbformat.writes(result.executed))


def write_csv(path: Path, rows: list[dict]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def write_class_files(root: Path, coursedir: CourseDirectory, submissions: list) -> tuple[list[Path], list]:
    """``grades.csv`` and the LMS files for these submissions (``collect.Submission``), from the course's gradebook
    alone (plus the feedback pages in ``feedback/``). Returns the files written and the submissions the gradebook has no
    grade for."""
    by_key: dict = {}
    for sub in submissions:
        by_key.setdefault((sub.assignment, sub.student), []).append(sub)
    rows, graded, missing = [], [], []
    with Gradebook(coursedir.db_url, coursedir.course_id) as gb:  # the course's id: no stray default course
        for (assignment, student), subs in sorted(by_key.items()):
            try:
                stored = gb.find_submission(assignment, student)
            except MissingEntry:
                missing += subs
                continue
            rows.append(row_of(stored))
            graded.append(_graded(root, stored, subs[0], rows[-1]))
    write_csv(root / "grades.csv", rows)
    return [root / "grades.csv", *lms_files.write(root, [g for g in graded if g.lms])], missing


def _graded(root: Path, stored, sub, row: dict) -> lms_files.Graded:
    tests = tuple((grade.name, grade.score, grade.max_score) for nb in stored.notebooks for grade in nb.grades)
    pages = (root / "feedback" / sub.student / sub.assignment / f"{nb.name}.html" for nb in stored.notebooks)
    return lms_files.Graded(sub.lms, sub.student, sub.name, sub.assignment, float(row["score"]),
                            float(row["max_score"]), tests, tuple(page for page in pages if page.exists()))


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
    results: list[Result] = field(default_factory=list)
    skipped: list = field(default_factory=list)  # collect.Skipped: files not graded, why, and what to do
    exports: dict = field(default_factory=dict)  # the export each submission was recognised in -> students
    failed: list[tuple[str, str]] = field(default_factory=list)  # (submission, why the grader failed): not graded
    sandbox: str = ""
    seconds: float = 0.0
    jobs: int = 1
    written: list[Path] = field(default_factory=list)  # grades.csv and the LMS files
    notes: list[str] = field(default_factory=list)  # e.g. which shard ran
    missing: list[str] = field(default_factory=list)  # submissions the gradebook has no grade for (report)
    reported: int = -1  # grades reported from the gradebook alone (report); -1 when grading
    empty_ok: bool = False  # grading nothing is no problem (a shard holding none of the students)

    def text(self, root: Path) -> str:
        graded = len(self.results)
        per = self.seconds / graded if graded else 0.0
        if self.reported >= 0:
            lines = [f"Reported {self.reported} grade(s) from the gradebook in {self.seconds:.1f} s."]
        else:
            lines = [f"Graded {graded} submission notebook(s) in {self.seconds:.1f} s with {self.jobs} worker(s) "
                     f"({per:.2f} s each): feedback in {root / 'feedback'}/"]
        if self.written:
            lines.append("Wrote: " + ", ".join(str(path.relative_to(root)) for path in self.written)
                         + f" in {root}.")
        lines += self.notes
        if self.exports:
            lines.append("Recognised: " + ", ".join(f"{export} ({count} student{'s' * (count != 1)})"
                                                    for export, count in sorted(self.exports.items())) + ".")
        if self.sandbox:
            lines.append(f"Sandbox: {self.sandbox}.")
        problems = [r for r in self.results if r.notices or r.score < r.max_score]
        if problems:
            lines.append("Graded with problems:")
            for r in problems:
                failing = [f"{t.name}: {t.message}" for t in r.tests if not t.passed]
                lines.append(f"  {r.student}/{r.assignment}: {r.score:g}/{r.max_score:g}"
                             + "".join(f"\n      {line}" for line in [*r.notices, *failing][:6]))
        if self.skipped or self.failed:
            lines.append("Not graded:")
            lines += [f"  {s.origin}: {s.reason}" for s in self.skipped]
            lines += [f"  {origin}: {reason}" for origin, reason in self.failed]
        if self.missing:
            lines.append("No grade in the gradebook:")
            lines += [f"  {origin}" for origin in self.missing]
        lines += self.to_fix()
        flagged = [r for r in self.results if r.withheld]
        if flagged:
            lines.append("Used withheld descent functions (they raise while graded, so those answers score as wrong):")
            lines += [f"  {r.student}/{r.assignment}: {', '.join(r.withheld)}" for r in flagged]
        return "\n".join(lines)

    def to_fix(self) -> list[str]:
        """What to do before grading again: one line per kind of problem (none when all went well)."""
        fixes = Counter(s.fix for s in self.skipped if s.fix)
        lines = [f"To fix: {count} file{'s' * (count != 1)} {fix}." for fix, count in sorted(fixes.items())]
        if self.failed:
            lines.append(f"To fix: {len(self.failed)} notebook(s) could not be graded (reasons above): grade again.")
        if self.missing:
            lines.append(f"To fix: {len(self.missing)} submission(s) have no grade in the gradebook: grade them "
                         "(every shard, with the same db_url), then report again.")
        if not self.results and not self.failed and not self.missing and self.reported <= 0 and not self.empty_ok:
            lines.append("To fix: nothing was graded: pass the export of this course's assignments (a zip as "
                         "downloaded, or its unzipped folder) or a folder <student>/<assignment>/<notebook>.ipynb.")
        return lines

    @property
    def complete(self) -> bool:
        """Everything submitted was graded (receipts aside): the run may exit 0."""
        return not self.to_fix()
