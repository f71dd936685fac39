"""``make grade``: collect a class's submissions, grade them in parallel (a sandboxed student process and a trusted
harness per notebook), record the grades in nbgrader's gradebook, write ``feedback/``, then ``grades.csv`` and each
LMS's import files from the gradebook at the course root, and close with a summary.

With a shard (``SHARD=i/n``) only that shard's students are graded and the class-wide files are left to
:func:`report_class` (``make grade-report``), run once every shard is done: it collects the export again (to know
each student's LMS and name) and reads the grades from the gradebook alone.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.util
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import descent
from nbgrader.api import Gradebook
from nbgrader.coursedir import CourseDirectory

from . import collect as collecting
from . import lms, report
from .course import (GradebookLock, cell_timeout, course_notebooks, load_config, record, source_notebooks,
                     venv_on_path)
from .run import NOTEBOOK_BUDGET, Job, Processes, Result, grade_notebook
from .sandbox import Sandbox, prepare
from .shard import EVERYONE, Shard
from .withhold import build_view

_PROCESSES: Processes | None = None


def _init_worker(slots, sandbox: Sandbox, cpu_seconds: int) -> None:
    global _PROCESSES
    _PROCESSES = Processes(sandbox, slots.get(), cpu_seconds)
    multiprocessing.util.Finalize(_PROCESSES, _PROCESSES.close, exitpriority=10)


def _grade(job: Job) -> Result:
    result = grade_notebook(job, _PROCESSES.take(job.view))
    if result.failure.startswith("the sandbox did not start"):  # one fresh try
        result = grade_notebook(job, _PROCESSES.take(job.view))
    return result


def _pool(jobs: int, sandbox: Sandbox, cpu_seconds: int) -> ProcessPoolExecutor:
    context = multiprocessing.get_context("fork")  # the workers start with everything imported
    slots = context.Queue()
    for slot in range(jobs):
        slots.put(slot)
    return ProcessPoolExecutor(jobs, mp_context=context, initializer=_init_worker,
                               initargs=(slots, sandbox, cpu_seconds))


def _shard_of(skipped: collecting.Skipped) -> str | None:
    """The student a file not graded belongs to, when its name says (None: it is reported by shard 1)."""
    named = lms.recognise(skipped.origin)
    return named.student if named else None


def _in_shard(collected: collecting.Collected, shard: Shard, summary: report.Summary) -> list:
    """The submissions (and files not graded) of ``shard``'s students."""
    found = [sub for sub in collected.submissions if shard.holds(sub.student)]
    if shard != EVERYONE:
        students = {sub.student for sub in collected.submissions}
        mine = {sub.student for sub in found}
        summary.skipped = [s for s in summary.skipped
                           if (shard.holds(who) if (who := _shard_of(s)) else shard.index == 1)]
        summary.empty_ok = bool(students)
        summary.notes.append(f"Shard {shard}: {len(mine)} of {len(students)} students. grades.csv and the LMS files: "
                             "run make grade-report with the same SUBMISSIONS once every shard is done.")
    return found


def grade_class(root: Path, submissions: Path, jobs: int = 2, unsandboxed: bool = False,
                stream=sys.stderr, shard: Shard = EVERYONE) -> report.Summary:
    """Grade every submission in ``submissions`` (a folder or a zip) for the course at ``root`` (only the students
    of ``shard``, if given).

    Raises ``sandbox.SandboxUnavailable`` (before grading anything) when student code cannot be sandboxed here and
    ``unsandboxed`` is not set.
    """
    start = time.monotonic()
    venv_on_path()
    root, submissions = root.resolve(), submissions.resolve()
    sandbox = prepare(unsandboxed)
    config = load_config(root)
    coursedir = CourseDirectory(config=config)
    collected = collecting.collect(submissions, course_notebooks(coursedir), config)
    summary = report.Summary(skipped=collected.skipped, exports=collected.exports, jobs=jobs,
                             sandbox=sandbox.describe())
    found = _in_shard(collected, shard, summary)
    if sandbox.mode == "none":
        stream.write(f"warning: sandbox {sandbox.describe()}\n")
    work = Path(tempfile.mkdtemp(prefix="descent-grade-"))
    try:
        timeout = cell_timeout(config)
        truth, views = {}, {}
        for assignment in sorted({sub.assignment for sub in found}):
            truth[assignment] = source_notebooks(config, assignment, work / "release")
            withheld = sorted({name for nb in truth[assignment].values() for name in nb.withheld})
            views[assignment] = str(build_view(Path(descent.__file__).parent, withheld, assignment,
                                               work / "views" / assignment))
        if coursedir.db_url.startswith("sqlite:///") and os.path.exists(path := coursedir.db_url[len("sqlite:///"):]):
            os.chmod(path, 0o600)  # grades and the hidden tests' source: the grader's only
        (work / "staging").mkdir(mode=0o700)
        job_list = []
        for index, sub in enumerate(sorted(found, key=lambda s: (s.assignment, s.student, s.notebook))):
            notebook = truth[sub.assignment][sub.notebook]
            job_list.append(Job(sub.student, sub.assignment, sub.notebook,
                                collecting.stage(sub, work / "staging", index),
                                sub.timestamp and sub.timestamp.isoformat(), notebook.cells, notebook.withheld,
                                views[sub.assignment], timeout))
        extra = {(sub.student, sub.assignment, sub.notebook): sub for sub in found}
        cpu_seconds = NOTEBOOK_BUDGET * timeout + 60
        _run(job_list, jobs, sandbox, cpu_seconds, root, coursedir, extra, summary, stream)
        if shard == EVERYONE:
            graded = {(r.student, r.assignment) for r in summary.results}
            summary.written, _ = report.write_class_files(root, coursedir, [
                sub for sub in found if (sub.student, sub.assignment) in graded])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    summary.seconds = time.monotonic() - start
    return summary


def _run(job_list, jobs, sandbox, cpu_seconds, root, coursedir, extra, summary, stream) -> None:
    progress = report.Progress(len(job_list), stream)
    pending = list(job_list)
    while pending:  # a broken pool (a worker killed from outside) is replaced once and its notebooks retried
        retry = []
        with _pool(jobs, sandbox, cpu_seconds) as pool:
            futures = {pool.submit(_grade, job): job for job in pending}
            # opened after the workers forked: they never touch it. The lock keeps another grader's setup out.
            with Gradebook(coursedir.db_url, coursedir.course_id) as gb, GradebookLock(coursedir.db_url) as lock:
                for future in as_completed(futures):
                    job = futures[future]
                    try:
                        result = future.result()
                    except BrokenProcessPool:
                        retry.append(job)
                        continue
                    except Exception as error:  # reported, never turned into a grade
                        result = Result(job.student, job.assignment, job.notebook, job.timestamp,
                                        failure=f"{type(error).__name__}: {error}")
                    with lock.held():
                        _finish(result, extra, gb, root, summary)
                    progress.step(f"{result.student}/{result.assignment} "
                                  + (f"{result.score:g}/{result.max_score:g}" if not result.failure else "NOT GRADED"))
        if retry and len(retry) == len(pending):
            summary.failed += [(f"{job.student}/{job.assignment}", "the grading worker crashed") for job in retry]
            break
        pending = retry


def _finish(result: Result, extra: dict, gb: Gradebook, root: Path, summary: report.Summary) -> None:
    if result.failure:
        summary.failed.append((f"{result.student}/{result.assignment}/{result.notebook}.ipynb", result.failure))
        return
    sub = extra[(result.student, result.assignment, result.notebook)]
    result.notices[:0] = sub.notices
    summary.results.append(result)
    report.write_result(root, result)
    record(gb, result, sub.timestamp)


def report_class(root: Path, submissions: Path) -> report.Summary:
    """``grades.csv`` and the LMS files for the students of the export ``submissions``, from the gradebook alone
    (``make grade-report``: after every shard of ``make grade SHARD=i/n`` is done)."""
    start = time.monotonic()
    venv_on_path()
    root, submissions = root.resolve(), submissions.resolve()
    config = load_config(root)
    coursedir = CourseDirectory(config=config)
    collected = collecting.collect(submissions, course_notebooks(coursedir), config)
    summary = report.Summary(skipped=collected.skipped, exports=collected.exports)
    summary.written, missing = report.write_class_files(root, coursedir, collected.submissions)
    summary.missing = [sub.origin for sub in missing]
    summary.reported = len({(s.student, s.assignment) for s in collected.submissions} -
                           {(s.student, s.assignment) for s in missing})
    summary.seconds = time.monotonic() - start
    return summary
