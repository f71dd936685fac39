"""Recognise the files of an LMS's "download all submissions" export by their names: who submitted (the LMS's own
id, so that grades can go back), which file they submitted, and which attempt it is.

- Canvas: ``<lastfirst>_<user id>_<submission id>_<original name>``, ``<lastfirst>_LATE_<user id>_...`` (or
  ``late_``) for late work; a file a student submitted again under the same name gets ``-1``, ``-2``... before its
  extension (``01_loss_functions-1.ipynb``).
- Moodle: ``<Full Name>_<participant id>_assignsubmission_file_<original name>``, or (with "download submissions in
  folders") a folder ``<Full Name>_<participant id>_assignsubmission_file_`` holding the original file.
- Blackboard: ``<assignment name>_<username>_attempt_<YYYY-MM-DD-HH-MM-SS>_<original name>``, and a receipt
  ``<assignment name>_<username>_attempt_<YYYY-MM-DD-HH-MM-SS>.txt`` per attempt (never graded; read for the
  student's name, :func:`receipt_name`).

Then :func:`notebook_for` says which of the course's notebooks an original name stands for (also when a browser or
the LMS renamed it: ``01_loss_functions (1).ipynb``, ``01_loss_functions-1.ipynb``, ``01_Loss_Functions.ipynb``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath

CANVAS, MOODLE, BLACKBOARD = "Canvas", "Moodle", "Blackboard"

# Canvas's documentation does not spell the late marker out; exports show both "LATE_" and "late_": both accepted.
# The third number is the submission id in current exports (older ones put the attachment id there): either way it
# only grows with each submission, so it orders attempts.
_CANVAS = re.compile(r"^(?P<name>[^_]+)_(?:(?P<late>late|LATE)_)?(?P<id>\d+)_(?P<attempt>\d+)_(?P<file>.+)$")
# Moodle names the flat file and the folder alike; whether the folder keeps the trailing "_" could not be confirmed
# in Moodle's documentation: both accepted. Blind marking writes "Participant <id>": a space before the id accepted.
_MOODLE = re.compile(r"^(?P<name>.*?)[_ ](?P<id>\d+)_assignsubmission_(?P<plugin>[a-z]+)(?:_(?P<file>.*))?$")
# A username holding "_" cannot be told from the assignment's name: the id is the last "_"-free part before _attempt_.
_BLACKBOARD = re.compile(r"^(?P<assignment>.*)_(?P<id>[^_]+)_attempt_(?P<stamp>\d{4}(?:-\d{2}){5})"
                         r"(?:_(?P<file>.+)|\.txt)$")
_COPY = re.compile(r"^(?P<stem>.*?)(?: \((?P<paren>\d+)\)|-(?P<dash>\d+))$")  # "x (1)" from a browser, "x-1" Canvas


class NotANotebook(ValueError):
    """A file that is none of the course's notebooks."""


@dataclass(frozen=True)
class Named:
    """One file of an export: ``filename`` is the name the student gave it (empty for a Blackboard receipt)."""
    lms: str
    student: str
    filename: str
    timestamp: datetime | None = None
    attempt: int = 0  # orders attempts without a timestamp (Canvas's submission id)
    late: bool = False
    name: str = ""  # the student's name as the LMS wrote it

    @property
    def receipt(self) -> bool:
        return not self.filename


# A Blackboard receipt starts "Name: <First Last> (<username>)", then Assignment, Date Submitted, ... (the layout its
# "Download Assignment" writes; the stored documentation could not confirm it, so a receipt laid out otherwise only
# leaves the student's name empty: Blackboard's upload matches rows by Username).
_RECEIPT_NAME = re.compile(r"^\s*Name:\s*(?P<name>.+?)\s*\((?P<id>[^()]+)\)\s*$", re.MULTILINE)


def receipt_name(text: str, student: str) -> str:
    """The student's name that a Blackboard receipt gives, or "" when its Name line is missing or names another user.

    >>> receipt_name("Name: Zoë O'Brien (zobrien)\\nAssignment: 01_loss_functions\\n", "zobrien")
    "Zoë O'Brien"
    """
    m = _RECEIPT_NAME.search(text.removeprefix("\ufeff"))  # a byte-order mark some Windows tools write
    return m["name"] if m and m["id"] == student else ""


def recognise(path: str) -> Named | None:
    """What the export says about the file at ``path`` (a path inside the export, "/"-separated), or None when its
    name follows none of the exports above."""
    parts = PurePosixPath(path).parts
    if not parts:
        return None
    base = parts[-1]
    for depth, folder in enumerate(parts[:-1]):  # Moodle's folders: the original file (or the student's folder)
        if (m := _MOODLE.match(folder)) and not m["file"]:
            inner = "/".join(parts[depth + 1:])
            return Named(MOODLE, m["id"], inner if m["plugin"] == "file" else f"{m['plugin']}: {inner}",
                         name=m["name"])
    if m := _MOODLE.match(base):
        if not m["file"]:
            return None
        return Named(MOODLE, m["id"], m["file"] if m["plugin"] == "file" else f"{m['plugin']}: {m['file']}",
                     name=m["name"])
    if m := _BLACKBOARD.match(base):
        stamp = datetime.strptime(m["stamp"], "%Y-%m-%d-%H-%M-%S")  # naive, as nbgrader keeps timestamps
        return Named(BLACKBOARD, m["id"], m["file"] or "", timestamp=stamp)
    if m := _CANVAS.match(base):
        return Named(CANVAS, m["id"], m["file"], attempt=int(m["attempt"]), late=bool(m["late"]), name=m["name"])
    return None


def copy_number(filename: str) -> int:
    """1 for ``x (1).ipynb`` or ``x-1.ipynb``, 0 for ``x.ipynb``: later copies are the newer files."""
    m = _COPY.match(PurePosixPath(filename).stem)
    return int(m["paren"] or m["dash"]) if m else 0


def notebook_for(filename: str, notebooks: dict[str, list[str]], assignment: str | None = None):
    """``(assignment, notebook, notice)`` for a file the student submitted as ``filename``: the course's notebook of
    that name, or of that name once a copy number (`` (1)``, ``-1``) and the letter case are set aside (then with a
    notice). ``assignment`` restricts the search to that assignment. NotANotebook when it is none of them."""
    path = PurePosixPath(filename)
    choices = {a: names for a, names in notebooks.items() if assignment in (None, a)}
    if path.suffix.lower() != ".ipynb":
        what = f"a {path.suffix} file" if path.suffix else "a file without an extension"
        raise NotANotebook(f"{what}, not a notebook")
    stem = path.stem
    exact = [(a, name) for a, names in choices.items() for name in names if name == stem]
    if not exact:
        m = _COPY.match(stem)
        plain = (m["stem"] if m else stem).strip().casefold()
        exact = [(a, name) for a, names in choices.items() for name in names if name.casefold() in
                 (plain, stem.casefold())]
        if len(exact) == 1:
            a, name = exact[0]
            return a, name, f"the notebook was named '{path.name}': graded as {name}.ipynb"
    if len(exact) == 1:
        return exact[0][0], exact[0][1], ""
    expected = ", ".join(f"{name}.ipynb" for names in choices.values() for name in names)
    raise NotANotebook(f"'{path.name}' is not a notebook of {assignment or 'this course'} (expected {expected})")
