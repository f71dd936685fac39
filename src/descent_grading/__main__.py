"""``python -m descent_grading grade SUBMISSIONS [--shard i/n]``, ``python -m descent_grading report SUBMISSIONS``
and ``python -m descent_grading check NOTEBOOK``."""

from __future__ import annotations

import argparse
import sys
import zipfile
from pathlib import Path

from . import shard as sharding


def _shard(text: str) -> sharding.Shard:
    try:
        return sharding.parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m descent_grading", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    grading = commands.add_parser("grade", help="grade a class: a folder <student>/<assignment>/<nb>.ipynb or a zip")
    grading.add_argument("submissions", type=Path)
    grading.add_argument("--course", type=Path, default=Path.cwd(), help="the course root (default: here)")
    grading.add_argument("--jobs", type=int, default=2, help="notebooks graded in parallel (default: 2, at most 32)")
    grading.add_argument("--unsandboxed", action="store_true",
                         help="run student code WITHOUT a sandbox, with your rights (only where bubblewrap cannot run)")
    grading.add_argument("--shard", type=_shard, default=sharding.EVERYONE,
                         help="i/n: grade only the i-th of n shares of the students (then run report)")
    reporting = commands.add_parser("report", help="write grades.csv and the LMS files from the gradebook alone")
    reporting.add_argument("submissions", type=Path, help="the export that was graded (for each student's LMS)")
    reporting.add_argument("--course", type=Path, default=Path.cwd(), help="the course root (default: here)")
    checking = commands.add_parser("check", help="run a notebook's visible tests and print each part's result")
    checking.add_argument("notebook", type=Path)
    checking.add_argument("--course", type=Path, default=Path.cwd())
    args = parser.parse_args(argv)
    if args.command == "check":
        from .check import check

        return 1 if check(args.notebook, args.course) else 0
    if not (args.course / "nbgrader_config.py").exists():
        parser.error(f"{args.course} has no nbgrader_config.py: pass --course COURSE_ROOT")
    if not args.submissions.exists():
        parser.error(f"{args.submissions} does not exist")
    if not args.submissions.is_dir() and not zipfile.is_zipfile(args.submissions):
        parser.error(f"{args.submissions} is neither a folder nor a zip file: pass the export as downloaded")
    from .grade import grade_class, report_class
    from .sandbox import SandboxUnavailable

    try:
        if args.command == "report":
            summary = report_class(args.course, args.submissions)
        else:
            summary = grade_class(args.course, args.submissions, min(max(1, args.jobs), 32), args.unsandboxed,
                                  shard=args.shard)
    except SandboxUnavailable as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(summary.text(args.course.resolve()))
    return 0 if summary.complete else 1


if __name__ == "__main__":
    sys.exit(main())
