"""Grade one submitted notebook: plan its cells, run the student's in a sandboxed process and the instructor's in
the harness, and score each test cell with nbgrader's rule (a test scores its points unless it errors or writes
to stderr; a number as its last value is partial credit).

``grade_notebook`` never raises for anything a student can cause: a broken submission is graded, with notices
saying what happened; only a failure of the grader itself ends in ``Result.failure``.
"""

from __future__ import annotations

import ast
import time
from dataclasses import dataclass, field

import nbformat
from nbgrader.utils import determine_grade

from .harness import Harness, Outcome
from .plan import SourceCell, Step, crossing_names, plan, read_submission
from .process import StudentGone, StudentProcess
from .sandbox import Sandbox

MESSAGE_CHARS = 300
NOTEBOOK_BUDGET = 5  # a notebook may run for this many times the per-cell limit


@dataclass(frozen=True)
class Job:
    student: str
    assignment: str
    notebook: str  # its name, without .ipynb
    path: str  # a private copy of the submitted file
    timestamp: str | None
    cells: tuple[SourceCell, ...]
    withheld: tuple[str, ...]  # dotted names of descent withheld while this assignment is graded
    view: str  # the folder holding this assignment's descent
    timeout: int  # seconds per cell


@dataclass(frozen=True)
class Test:
    name: str
    points: float
    score: float
    message: str

    @property
    def passed(self) -> bool:
        return self.score == self.points


@dataclass
class Result:
    student: str
    assignment: str
    notebook: str
    timestamp: str | None
    tests: list[Test] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)  # what happened to the submission, for the student
    withheld: list[str] = field(default_factory=list)  # withheld descent names the answers used
    answers: list[tuple[str, str]] = field(default_factory=list)  # (answer cell, the student's code)
    failure: str = ""  # the grader itself failed: not graded
    executed: nbformat.NotebookNode | None = None  # as run, hidden tests included: instructors only
    seconds: float = 0.0

    @property
    def score(self) -> float:
        return sum(test.score for test in self.tests)

    @property
    def max_score(self) -> float:
        return sum(test.points for test in self.tests)


def first_line(text: str) -> str:
    line = next((line for line in str(text).strip().splitlines() if line.strip()), "")
    return line if len(line) <= MESSAGE_CHARS else line[: MESSAGE_CHARS - 1] + "…"


def message(outcome: Outcome) -> str:
    """Why a cell lost its points, in one line."""
    if outcome.ename == "Timeout":
        return "it was stopped: it ran longer than the time limit per cell (an infinite loop?)"
    if outcome.ename == "AssertionError":
        return first_line(outcome.error) or "a check failed"
    if outcome.ename == "NotImplementedError" and not outcome.error.strip():
        return "NotImplementedError: not answered yet"
    if outcome.ename:
        return first_line(f"{outcome.ename}: {outcome.error}" if outcome.error.strip() else outcome.ename)
    for out in outcome.outputs:
        if out.output_type == "stream" and out.name == "stderr":
            return "the code wrote to stderr (nbgrader counts that as a failure): " + first_line(out.text)
    return ""


def score(step: Step, outcome: Outcome | None, stopped: str) -> Test:
    if outcome is None:
        return Test(step.grade_id, step.points, 0.0, "did not run: " + (stopped or "an earlier cell stopped"))
    if outcome.failed:  # whatever its outputs say
        return Test(step.grade_id, step.points, 0.0, message(outcome))
    cell = nbformat.v4.new_code_cell(step.source, outputs=outcome.outputs, metadata={"nbgrader": {
        "grade": True, "solution": False, "locked": True, "grade_id": step.grade_id, "points": step.points}})
    points, _ = determine_grade(cell)
    points = float(points or 0.0)
    return Test(step.grade_id, step.points, points,
                message(outcome) or ("passed" if points == step.points else "partial credit"))


def uses_withheld(source: str, withheld: tuple[str, ...]) -> set[str]:
    """The withheld names a cell's code refers to (imports from descent, or attributes of descent modules)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    short = {name.rsplit(".", 1)[1]: name for name in withheld}
    aliases, found = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            aliases |= {(a.asname or a.name).split(".")[0] for a in node.names if a.name.startswith("descent")}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("descent"):
            for alias in node.names:
                if alias.name in short:
                    found.add(short[alias.name])
                elif alias.name == "*":
                    found.update(name for name in withheld if name.startswith(node.module + "."))
                else:
                    aliases.add(alias.asname or alias.name)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in short:
            root = node.value
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in aliases:
                found.add(short[node.attr])
    return found


def execute(steps: list[Step], job: Job, process: StudentProcess) -> tuple[Harness, list, str]:
    """Run every step; return the harness, each step's outcome (None if it never ran) and why the run stopped
    early ("" if it did not)."""
    harness = Harness(process, *crossing_names(steps, job.cells))
    outcomes: list[Outcome | None] = [None] * len(steps)
    budget = NOTEBOOK_BUDGET * job.timeout
    end, stopped = time.monotonic() + budget, ""
    for index, step in enumerate(steps):
        if time.monotonic() > end:
            stopped = (f"the notebook ran longer than its {budget} s limit; {step.describe()} and later cells did "
                       "not run")
            break
        try:
            outcomes[index] = harness.run(step, min(end, time.monotonic() + job.timeout))
        except StudentGone as gone:
            outcomes[index] = Outcome([nbformat.v4.new_output("error", ename="StudentGone", evalue=str(gone),
                                                              traceback=[])],
                                      ename="StudentGone", error=f"while running {step.describe()}, {gone}")
            stopped = f"while running {step.describe()}, {gone}"
            break
        if process.sweep():
            harness.notices.append(f"{step.describe()} left processes running: they were stopped")
    return harness, outcomes, stopped


def grade_notebook(job: Job, process: StudentProcess) -> Result:
    """Grade one submission with a started student process (which this closes)."""
    start = time.monotonic()
    result = Result(job.student, job.assignment, job.notebook, job.timestamp)
    try:
        nb = read_submission(job.path)
    except ValueError as error:
        result.notices.append(f"{error}: every test scores 0")
        result.tests = [Test(cell.grade_id, cell.points, 0.0, f"not run: {error}") for cell in job.cells
                        if cell.kind == "test"]
        process.close()
        return result
    except OSError as error:
        process.close()
        result.failure = f"could not read the submission: {error}"
        return result
    try:
        steps, result.notices = plan(nb, job.cells)
        result.answers = [(step.grade_id or "a cell you added", step.source) for step in steps if step.student]
        used = set().union(*(uses_withheld(source, job.withheld) for _, source in result.answers))
        process.ready()
        harness, outcomes, stopped = execute(steps, job, process)
        result.notices += harness.notices + ([stopped] if stopped else [])
        if harness.truncated:
            result.notices.append("the notebook printed more than 1 MB: the rest of its output was dropped")
        result.withheld = sorted(used | {name for name in job.withheld
                                         if any(message.startswith(name + " ") for message in harness.withheld)})
        result.tests = [score(step, outcome, stopped) for step, outcome in zip(steps, outcomes, strict=True)
                        if step.kind == "test"]
        result.executed = nbformat.v4.new_notebook(cells=[
            nbformat.v4.new_code_cell(step.source, outputs=outcome.outputs)
            for step, outcome in zip(steps, outcomes, strict=True) if outcome is not None])
    except StudentGone as gone:  # the student's process could not even start: the grader's problem
        result.failure = f"the sandbox did not start: {gone}"
    except Exception as error:  # the grader's own failure: reported, never guessed into a grade
        result.failure = f"{type(error).__name__}: {first_line(error)}"
    finally:
        process.close()
    result.seconds = time.monotonic() - start
    return result


class Processes:
    """A worker's student processes: a fresh one per notebook, the next booting while the current one is graded
    (for the same assignment: jobs come sorted by assignment). Two uids per worker alternate, so a process never
    shares its uid with the one booting beside it."""

    def __init__(self, sandbox: Sandbox, worker: int, cpu_seconds: int):
        self.sandbox, self.worker, self.cpu_seconds = sandbox, worker, cpu_seconds
        self.booted, self.next, self.next_view = 0, None, ""

    def _start(self, view: str) -> StudentProcess:
        self.booted += 1
        return StudentProcess(self.sandbox, 2 * self.worker + self.booted % 2, view, self.cpu_seconds)

    def take(self, view: str) -> StudentProcess:
        current = self.next if self.next is not None and self.next_view == view else None
        if current is None:
            self.close()
            current = self._start(view)
        self.next, self.next_view = self._start(view), view
        return current

    def close(self) -> None:
        if self.next is not None:
            self.next.close()
            self.next = None
