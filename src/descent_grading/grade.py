"""``make grade``: collect a class's submissions, grade them in parallel (a sandboxed student process and a trusted
harness per notebook), record the grades in nbgrader's gradebook, write ``grades.csv`` and ``feedback/`` at the
course root, and close with a summary.
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
from . import report
from .course import (GradebookLock, cell_timeout, course_notebooks, load_config, record, source_notebooks,
                     venv_on_path)
from .run import NOTEBOOK_BUDGET, Job, Processes, Result, grade_notebook
from .sandbox import Sandbox, prepare
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


def grade_class(root: Path, submissions: Path, jobs: int = 2, unsandboxed: bool = False,
                stream=sys.stderr) -> report.Summary:
    """Grade every submission in ``submissions`` (a folder or a zip) for the course at ``root``.

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
    found = collected.submissions
    summary = report.Summary(skipped=collected.skipped, exports=collected.exports, jobs=jobs,
                             sandbox=sandbox.describe())
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
        rows = _run(job_list, jobs, sandbox, cpu_seconds, root, coursedir, extra, summary, stream)
        report.write_csv(root / "grades.csv", rows)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    summary.seconds = time.monotonic() - start
    return summary


def _run(job_list, jobs, sandbox, cpu_seconds, root, coursedir, extra, summary, stream) -> list[dict]:
    rows: dict = {}
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
                        row = _finish(result, extra, gb, root, summary)
                    if row:
                        rows[row["assignment"], row["student_id"]] = row  # the last notebook's row has the total
                    progress.step(f"{result.student}/{result.assignment} "
                                  + (f"{result.score:g}/{result.max_score:g}" if not result.failure else "NOT GRADED"))
        if retry and len(retry) == len(pending):
            summary.failed += [(f"{job.student}/{job.assignment}", "the grading worker crashed") for job in retry]
            break
        pending = retry
    return [rows[key] for key in sorted(rows)]


def _finish(result: Result, extra: dict, gb: Gradebook, root: Path, summary: report.Summary) -> dict | None:
    if result.failure:
        summary.failed.append((f"{result.student}/{result.assignment}/{result.notebook}.ipynb", result.failure))
        return None
    sub = extra[(result.student, result.assignment, result.notebook)]
    result.notices[:0] = sub.notices
    summary.results.append(result)
    report.write_result(root, result)
    return record(gb, result, sub.timestamp)
