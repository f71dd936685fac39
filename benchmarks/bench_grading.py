"""How fast does ``make grade`` grade a class? Seconds per submission notebook and whole-class throughput, against
plain sequential ``nbgrader autograde`` measured in the same run on the same submissions.

The class: ``--students`` students (default 32) submit one assignment (default: the first in solutions/, else
the grading fixture): half answered with the solutions, a quarter answered up to the second part, a quarter
untouched. Both sides are timed as an instructor runs them, start-up included:

- ours: ``python -m descent_grading grade SUBMITTED --jobs 2`` (student code in bubblewrap, tests in the harness,
  feedback, grades.csv);
- plain: ``nbgrader autograde ASSIGNMENT`` over the same ``submitted/`` folder (one process, one notebook at a
  time, no sandbox, no feedback), after ``nbgrader generate_assignment`` (not timed).

Repetitions are interleaved and compared by their medians; the scores of both must agree. ``make grade`` pays a
few seconds once (imports, nbgrader generate_assignment into the gradebook, the sandbox check), and each notebook
then costs one sandboxed Python (about 0.3 s to start, booted while the previous notebook is graded), so its
advantage grows with the class: measure a class, not a handful of notebooks. CPU seconds
(all processes, kernels included) are printed too: unlike wall-clock time, they barely move on a busy machine.

    .venv/bin/python benchmarks/bench_grading.py              # 32 students, 1 repetition (about 2 minutes)
    .venv/bin/python benchmarks/bench_grading.py --quick      # 4 students: a smoke run
    .venv/bin/python benchmarks/bench_grading.py --students 64 --repeat 3

The issue's target: at least 2x the throughput of plain nbgrader on 2 cores.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from descent_grading import roundtrip

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def the_assignment(name: str | None, work: Path) -> tuple[Path, str]:
    """(solutions folder, assignment) to grade."""
    real = sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir() and list(p.glob("*.ipynb")))
    if (name or (real[0] if real else None)) in real:
        return ROOT / "solutions", name or real[0]
    return roundtrip.fixture_solutions(work / "fixture"), "99_fixture"


def make_class(work: Path, solutions: Path, assignment: str, students: int) -> Path:
    """``submitted/<student>/<assignment>/<notebook>.ipynb`` for the whole class."""
    course = roundtrip.new_course(work / "course", solutions, [assignment])
    versions = roundtrip.release(course, assignment, work / "release")
    source = {path.stem: nbformat.read(path, as_version=4) for path in (solutions / assignment).glob("*.ipynb")}
    submitted = work / "submitted"
    for index in range(students):
        for notebook, release in versions.items():
            answers, ids = roundtrip.answers(source[notebook]), roundtrip.answer_ids(release)
            nb = [roundtrip.answered(release, answers), roundtrip.answered(release, answers),
                  roundtrip.answered(release, answers, only=ids[:1]), release][index % 4]
            folder = submitted / f"student{index:03d}" / assignment
            folder.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, folder / f"{notebook}.ipynb")
    return course


def timed(command: list, **kwargs) -> tuple[float, float]:
    """Wall-clock and CPU seconds (all its processes, kernels included) of a command."""
    before, start = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, **kwargs)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.perf_counter() - start, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def run_ours(course: Path, submitted: Path, jobs: int) -> tuple[tuple[float, float], dict]:
    for leftover in ("gradebook.db", "grades.csv", "feedback", "autograded"):
        path = course / leftover
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    seconds = timed([sys.executable, "-m", "descent_grading", "grade", str(submitted), "--course", str(course),
                     "--jobs", str(jobs)])
    with (course / "grades.csv").open() as handle:
        return seconds, {row["student_id"]: float(row["score"]) for row in csv.DictReader(handle)}


def run_plain(course: Path, submitted: Path, assignment: str) -> tuple[tuple[float, float], dict]:
    plain = course.parent / "plain"
    shutil.rmtree(plain, ignore_errors=True)
    plain.mkdir()
    shutil.copy(course / "nbgrader_config.py", plain)
    shutil.copytree(course / "solutions", plain / "solutions")
    shutil.copytree(submitted, plain / "submitted")
    env = {"PATH": f"{BIN}:/usr/bin:/bin"}
    subprocess.run([BIN / "nbgrader", "generate_assignment", assignment, "--force"], cwd=plain, check=True,
                   capture_output=True, env=env)
    seconds = timed([BIN / "nbgrader", "autograde", assignment], cwd=plain, env=env)
    subprocess.run([BIN / "nbgrader", "export"], cwd=plain, check=True, capture_output=True, env=env)
    with (plain / "grades.csv").open() as handle:
        return seconds, {row["student_id"]: float(row["score"]) for row in csv.DictReader(handle)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--assignment", default=None)
    parser.add_argument("--quick", action="store_true", help="4 students, 1 repetition")
    args = parser.parse_args(argv)
    students = 4 if args.quick else args.students
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        work = Path(tmp)
        solutions, assignment = the_assignment(args.assignment, work)
        course = make_class(work, solutions, assignment, students)
        notebooks = len(list((work / "submitted").rglob("*.ipynb")))
        times: dict[str, list[float]] = {"ours": [], "plain": []}
        cpu: dict[str, list[float]] = {"ours": [], "plain": []}
        for _ in range(1 if args.quick else args.repeat):
            (seconds, used), ours = run_ours(course, work / "submitted", args.jobs)
            times["ours"].append(seconds)
            cpu["ours"].append(used)
            (seconds, used), plain = run_plain(course, work / "submitted", assignment)
            times["plain"].append(seconds)
            cpu["plain"].append(used)
            if ours != plain:
                raise SystemExit(f"the scores differ:\nours  {ours}\nplain {plain}")
    print(f"{assignment}: {students} students, {notebooks} notebooks; scores agree between both graders")
    print(f"{'grader':<46}{'s/notebook':>11}{'notebooks/min':>14}{'total s':>9}{'CPU s/notebook':>16}")
    median = {name: statistics.median(values) for name, values in times.items()}
    used = {name: statistics.median(values) for name, values in cpu.items()}
    for name, label in (("plain", "plain nbgrader autograde (sequential)"),
                        ("ours", f"make grade ({args.jobs} workers, sandbox, feedback)")):
        print(f"{label:<46}{median[name] / notebooks:>11.2f}{60 * notebooks / median[name]:>14.1f}"
              f"{median[name]:>9.1f}{used[name] / notebooks:>16.2f}")
    print(f"throughput: {median['plain'] / median['ours']:.2f}x plain nbgrader (target: at least 2x); "
          f"CPU per notebook, plain / ours: {used['plain'] / used['ours']:.2f}")
    if os.getloadavg()[0] > 0.5 + os.cpu_count() / 2:
        print(f"note: the machine was busy (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores): "
              "wall-clock ratios understate parallel speed-ups")


if __name__ == "__main__":
    main()
