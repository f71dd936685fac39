"""Grade one submitted notebook: read it defensively, restore the instructor's cells, run it in a sandboxed kernel
behind the guard, score each test cell with nbgrader's rule and say what happened.

``grade_notebook(job)`` is what the worker processes run; it never raises for anything a student can cause.
"""

from __future__ import annotations

import ast
import asyncio
import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbgrader.utils import determine_grade

from . import sandbox as sandboxes

GUARD_SOURCE = (Path(__file__).with_name("_guard.py")).read_text()
MAX_NOTEBOOK_BYTES = 20 << 20
MAX_OUTPUT_CHARS = 1 << 20  # per notebook; beyond it output is dropped (the grades still count)
MESSAGE_CHARS = 300
FRAME_BUILTINS = {"super", "locals", "vars", "globals", "dir", "eval", "exec", "breakpoint"}


# -- what the instructor's source says --------------------------------------------------------------------------------
@dataclass(frozen=True)
class SourceCell:
    grade_id: str
    kind: str  # "trusted" (read-only), "answer", "test" or "manual"
    cell_type: str
    source: str  # with hidden tests: what runs
    release_source: str  # what students got
    points: float | None


def kind_of(nbgrader: dict) -> str:
    grade, solution = nbgrader.get("grade", False), nbgrader.get("solution", False)
    if grade and not solution and not nbgrader.get("task", False):
        return "test"
    if solution and not grade:
        return "answer"
    return "manual" if grade or nbgrader.get("task", False) else "trusted"


@dataclass
class Job:
    student: str
    assignment: str
    notebook: str  # name without .ipynb
    path: str  # a private copy of the submitted file
    timestamp: str | None
    cells: tuple[SourceCell, ...]
    timeout: int
    sandbox: sandboxes.Sandbox
    homes: str  # where kernel homes are made


@dataclass
class Result:
    student: str
    assignment: str
    notebook: str
    timestamp: str | None
    tests: list[dict] = field(default_factory=list)  # name, score, max_score, message
    notices: list[str] = field(default_factory=list)  # what happened to the submission, for the student
    review: list[str] = field(default_factory=list)  # constructs an instructor may want to look at
    answers: list[tuple[str, str]] = field(default_factory=list)  # (answer cell, the student's code)
    failure: str = ""  # the grader itself failed: not graded
    executed: dict | None = None  # the notebook as run (with hidden tests: instructors only)
    seconds: float = 0.0

    @property
    def score(self) -> float:
        return sum(test["score"] for test in self.tests)

    @property
    def max_score(self) -> float:
        return sum(test["max_score"] for test in self.tests)


def _first_line(text: str) -> str:
    line = next((line for line in str(text).strip().splitlines() if line.strip()), "")
    return line if len(line) <= MESSAGE_CHARS else line[: MESSAGE_CHARS - 1] + "…"


# -- reading and restoring ------------------------------------------------------------------------------------------
def read_submission(path: str) -> NotebookNode:
    """The notebook, or ``ValueError`` with a sentence a student understands."""
    size = os.path.getsize(path)
    if size == 0:
        raise ValueError("the submitted file is empty")
    if size > MAX_NOTEBOOK_BYTES:
        raise ValueError(f"the submitted file is {size >> 20} MB, more than the {MAX_NOTEBOOK_BYTES >> 20} MB allowed")
    text = Path(path).read_bytes().decode("utf-8", errors="replace")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}: {error.msg}"
        raise ValueError(f"the file is not a valid notebook (broken JSON at {where})") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise ValueError("the file is JSON but not a Jupyter notebook (no list of cells)")
    try:
        return nbformat.reads(json.dumps(data), as_version=4, capture_validation_error={})
    except Exception as error:  # nbformat raises many kinds for malformed notebooks
        raise ValueError(f"the notebook's structure is broken ({type(error).__name__})") from error


def _source(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def reconcile(nb: NotebookNode, truth: tuple[SourceCell, ...]) -> tuple[list[tuple[str, str, SourceCell | None]], list]:
    """The code cells to run, as ``(kind, source, source_cell)``, and notices about what had to be restored.

    Instructor cells (read-only and test cells) always run as the instructor wrote them, hidden tests included,
    with the instructor's points; missing ones are put back where they belong. Answer cells keep the student's
    code. Cells the student added run as student code.
    """
    by_id = {cell.grade_id: cell for cell in truth}
    order = {cell.grade_id: index for index, cell in enumerate(truth)}
    placed, cells, notices = set(), [], []

    def place_missing_before(index: int) -> None:
        for cell in truth[:index]:
            if cell.grade_id not in placed:
                placed.add(cell.grade_id)
                what = {"test": "test cell", "answer": "answer cell", "manual": "cell"}.get(cell.kind, "read-only cell")
                if cell.cell_type == "code" or cell.kind == "test":
                    notices.append(f"the {what} '{cell.grade_id}' was missing: it was put back"
                                   + (" and run" if cell.kind != "answer" else " as it was released (empty)"))
                source = cell.release_source if cell.kind == "answer" else cell.source
                if cell.cell_type == "code" or cell.kind == "answer":
                    cells.append((cell.kind, source, cell))

    for raw in nb.cells:
        meta = raw.get("metadata", {}).get("nbgrader", {}) if isinstance(raw.get("metadata"), dict) else {}
        grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
        source_cell = by_id.get(grade_id) if isinstance(grade_id, str) else None
        if source_cell is None or grade_id in placed:
            if raw.get("cell_type") == "code":
                cells.append(("student", _source(raw), None))
            continue
        place_missing_before(order[grade_id])
        placed.add(grade_id)
        submitted = _source(raw)
        if source_cell.kind == "answer":
            if raw.get("cell_type") != "code":
                notices.append(f"your answer cell '{grade_id}' had been turned into {raw.get('cell_type')}: "
                               "it was run as code")
            cells.append(("answer", submitted, source_cell))
            continue
        name = f"the {'test' if source_cell.kind == 'test' else 'read-only'} cell '{grade_id}'"
        if raw.get("cell_type") != source_cell.cell_type:
            notices.append(f"{name} had been turned into {raw.get('cell_type')}: it was restored")
        elif submitted != source_cell.release_source and source_cell.cell_type == "code":
            notices.append(f"{name} had been edited: the original was restored and run")
        if source_cell.points is not None and meta.get("points") != source_cell.points:
            try:
                same = float(meta.get("points")) == source_cell.points
            except (TypeError, ValueError):
                same = False
            if not same:
                notices.append(f"{name} claimed {meta.get('points')!r} points instead of {source_cell.points:g}: "
                               "the original points count")
        if {key: meta.get(key, False) for key in ("grade", "solution", "locked")} != \
                {key: key == "locked" or (key == "grade" and source_cell.kind == "test")
                 for key in ("grade", "solution", "locked")} and source_cell.kind in ("test", "trusted"):
            notices.append(f"{name}'s grading metadata had been changed: the original was restored")
        if source_cell.cell_type == "code":
            cells.append((source_cell.kind, source_cell.source, source_cell))
    place_missing_before(len(truth))
    return cells, notices


# -- what the kernel runs -----------------------------------------------------------------------------------------
class _GuardCalls(ast.NodeTransformer):
    """``f(a, b)`` → ``<token>.call(lambda: f, a, b)``: the callee is looked up after the arguments ran.

    Only the calls the cell makes itself: not those inside functions or classes it defines (helpers that may run
    thousands of times); whatever a helper's callees change is caught by the next call the cell makes.
    """

    def __init__(self, token: str):
        self.token = token

    def visit_FunctionDef(self, node: ast.AST) -> ast.AST:
        return node

    visit_AsyncFunctionDef = visit_ClassDef = visit_Lambda = visit_FunctionDef

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id in FRAME_BUILTINS:
            return node
        no_args = ast.arguments(posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[], defaults=[])
        guard = ast.Attribute(value=ast.Name(id=self.token, ctx=ast.Load()), attr="call", ctx=ast.Load())
        return ast.Call(func=guard, args=[ast.Lambda(args=no_args, body=node.func), *node.args],
                        keywords=node.keywords)


def guarded_test(source: str, token: str) -> str:
    """The test cell's code with every call checked by the guard, and the guard's final check."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return f"{token}.cell('test')\n{source}"
    tree = _GuardCalls(token).visit(tree)
    finish = ast.Attribute(value=ast.Name(id=token, ctx=ast.Load()), attr="finish", ctx=ast.Load())
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        tree.body[-1].value = ast.Call(func=finish, args=[tree.body[-1].value], keywords=[])
    else:
        tree.body.append(ast.Expr(value=ast.Call(func=finish, args=[], keywords=[])))
    return f"{token}.cell('test')\n{ast.unparse(ast.fix_missing_locations(tree))}"


def guard_install(token: str) -> str:
    return (f"(lambda g: (exec(compile({GUARD_SOURCE!r}, '<grader>', 'exec'), g), g['install']({token!r})))"
            "({'__name__': 'descent_grading_guard'}) and None")


# -- running it ---------------------------------------------------------------------------------------------------
class _Client(NotebookClient):
    """nbclient with a cap on the output a notebook may produce and nbgrader's rule for silent errors."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.output_chars, self.truncated = 0, False
        self.on_cell_executed = self._record_silent_error

    def output(self, outs, msg, display_id, cell_index):
        content, kind = msg.get("content", {}), msg.get("msg_type")
        if kind == "error":  # errors decide grades: always kept, but short
            content["traceback"] = [_first_line(f"{content.get('ename')}: {content.get('evalue')}")]
            content["evalue"] = str(content.get("evalue", ""))[:4000]
            return super().output(outs, msg, display_id, cell_index)
        size = len(str(content.get("text", ""))) + sum(len(str(value)) for value in content.get("data", {}).values())
        self.output_chars += size
        if self.output_chars <= MAX_OUTPUT_CHARS:
            return super().output(outs, msg, display_id, cell_index)
        if not self.truncated or (kind == "stream" and content.get("name") == "stderr"):
            note = "\n[output dropped: the notebook printed more than 1 MB]\n"
            stream = content.get("name", "stdout") if kind == "stream" else "stdout"
            if not outs or outs[-1].get("text") != note:
                outs.append(nbformat.v4.new_output("stream", name=stream, text=note))
        self.truncated = True
        return None

    def _record_silent_error(self, cell, cell_index, execute_reply):  # as nbgrader's Execute does
        content = execute_reply["content"]
        if content["status"] == "error" and not any(
                out.output_type == "error" and out.ename == content.get("ename") for out in cell.outputs):
            cell.outputs.append(nbformat.v4.new_output(
                "error", ename=content.get("ename", "Error"), evalue=str(content.get("evalue", ""))[:4000],
                traceback=["the kernel reported an error but showed no traceback"]))


@dataclass
class Kernel:
    km: sandboxes.SandboxKernelManager
    kc: object
    home: str
    token: str | None = None  # the guard's name in the kernel's builtins, once installed


class Kernels:
    """Fresh kernels for one worker: each is booted, and its guard installed, while the previous notebook runs,
    and is used for exactly one notebook."""

    def __init__(self, sandbox: sandboxes.Sandbox, slot: int, homes: str, guard: bool = True, prefetch: bool = True):
        self.sandbox, self.slot, self.homes, self.guard, self.prefetch = sandbox, slot, homes, guard, prefetch
        self.loop = asyncio.new_event_loop()
        self.booted = 0  # kernels alternate between the worker's two sandbox users
        self.zygote = None
        if prefetch and sandbox.level != "none":  # many kernels to come: fork them from a ready-imported factory
            try:
                self.zygote = sandboxes.Zygote(sandbox, homes)
            except (OSError, RuntimeError):
                self.zygote = None
        self.next: asyncio.Future | None = None
        self.retiring: set = set()

    def run(self, coroutine):
        return self.loop.run_until_complete(coroutine)

    async def _boot(self) -> Kernel:
        user = 2 * self.slot + self.booted % 2
        self.booted += 1
        try:
            return await self._boot_with(self.zygote, user)
        except Exception:
            if self.zygote is None:
                raise
            self.zygote.close()  # the factory failed: start kernels the plain way from now on
            self.zygote = None
            return await self._boot_with(None, user)

    async def _boot_with(self, zygote, user: int) -> Kernel:
        sandboxes.kill_user(self.sandbox, user)  # the kernel before last, and anything it left running
        home = sandboxes.kernel_home(self.homes, self.sandbox, user)
        km = sandboxes.SandboxKernelManager(kernel_name="python3").configure(self.sandbox, user, home, zygote)
        await km.start_kernel(extra_arguments=["--HistoryManager.hist_file=:memory:"], cwd=home,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        kernel = Kernel(km, km.client(), home)
        try:
            kernel.kc.start_channels()
            await kernel.kc.wait_for_ready(timeout=60)
            if self.guard:
                token = "_g" + os.urandom(8).hex()
                msg_id = kernel.kc.execute(guard_install(token), store_history=False)
                while (reply := await kernel.kc.get_shell_msg(timeout=60))["parent_header"].get("msg_id") != msg_id:
                    pass
                if reply["content"]["status"] != "ok":
                    raise RuntimeError(f"the grader's guard failed: {reply['content'].get('evalue')}")
                kernel.token = token
        except BaseException:
            await self._shutdown(kernel)
            raise
        return kernel

    def prime(self) -> None:
        """Boot the first kernel now (the worker has nothing else to do yet)."""
        self.next = self.loop.create_task(self._boot())
        self.run(asyncio.wait([self.next]))

    async def take(self) -> Kernel:
        booting = self.next or asyncio.ensure_future(self._boot())
        self.next = asyncio.ensure_future(self._boot()) if self.prefetch else None  # the next one boots meanwhile
        try:
            return await booting
        except Exception:  # e.g. it died while waiting: one fresh try
            return await self._boot()

    def retire(self, kernel: Kernel) -> None:
        task = self.loop.create_task(self._shutdown(kernel))
        self.retiring.add(task)
        task.add_done_callback(self.retiring.discard)

    @staticmethod
    async def _shutdown(kernel: Kernel) -> None:
        try:
            kernel.kc.stop_channels()
            await kernel.km.shutdown_kernel(now=True)
        except Exception:  # it is already gone
            pass
        shutil.rmtree(kernel.home, ignore_errors=True)

    def close(self) -> None:
        async def drain():
            if self.next is not None:
                try:
                    await self._shutdown(await self.next)
                except Exception:
                    pass
            await asyncio.gather(*self.retiring, return_exceptions=True)

        self.run(drain())
        self.loop.close()
        if self.zygote:
            self.zygote.close()


def execute(cells: list, job: Job, kernels: Kernels) -> tuple[list, str, bool]:
    """Run the cells in a fresh kernel; return each one as executed (None if it never ran), why the run stopped
    early (or ""), and whether output was dropped."""
    kernel = kernels.run(kernels.take())
    try:
        return kernels.run(_execute(cells, job, kernel))
    finally:
        kernels.retire(kernel)


async def _execute(cells: list, job: Job, kernel: Kernel) -> tuple[list, str, bool]:
    token = kernel.token
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                           "language": "python"}})
    for kind, source, _ in cells:
        if token and kind == "test":
            source = guarded_test(source, token)
        elif token and kind == "trusted" and not source.lstrip().startswith("%%") and "__future__" not in source:
            source = f"{token}.cell('trusted')\n{source}"  # student cells are noticed by the guard's pre_run_cell
        nb.cells.append(nbformat.v4.new_code_cell(source))
    budget = 5 * job.timeout
    deadline = time.monotonic() + budget
    client = _Client(nb, km=kernel.km, timeout=job.timeout, interrupt_on_timeout=True, allow_errors=True,
                     raise_on_iopub_timeout=True, iopub_timeout=4, record_timing=False,
                     error_on_timeout={"ename": "CellTimeoutError", "evalue": f"stopped after {job.timeout} s",
                                       "traceback": []},
                     timeout_func=lambda cell: max(1, min(job.timeout, round(deadline - time.monotonic()))))
    client.kc = kernel.kc
    executed: list = [None] * len(cells)
    stopped = ""
    for index, cell in enumerate(nb.cells):
        where = _describe(cells[index])
        if time.monotonic() > deadline:
            stopped = f"the notebook ran longer than its {budget} s limit; {where} and later cells did not run"
            break
        try:
            await client.async_execute_cell(cell, index, store_history=cells[index][0] in ("answer", "student"))
        except DeadKernelError:
            stopped = f"the Python kernel stopped while running {where} (exit() or a crash)"
            break
        except CellTimeoutError:
            stopped = f"{where} did not stop when interrupted after {job.timeout} s"
            break
        executed[index] = cell
    return executed, stopped, client.truncated


def _describe(entry) -> str:
    kind, _, source_cell = entry
    if source_cell is None:
        return "a cell you added"
    return {"answer": "your answer '{}'", "test": "the test '{}'"}.get(kind, "the cell '{}'").format(
        source_cell.grade_id)


def _error_message(outputs) -> str:
    for out in outputs:
        if out.output_type == "error":
            if out.ename in ("CellTimeoutError", "KeyboardInterrupt"):
                return "it was stopped: it ran longer than the time limit per cell (an infinite loop?)"
            if out.ename == "AssertionError":
                return _first_line(out.evalue) or "a check failed"
            if out.ename == "NotImplementedError" and not str(out.evalue).strip():
                return "NotImplementedError: not answered yet"
            return _first_line(f"{out.ename}: {out.evalue}" if str(out.evalue).strip() else out.ename)
        if out.output_type == "stream" and out.name == "stderr":
            return "the code wrote to stderr (nbgrader counts that as a failure): " + _first_line(out.text)
    return ""


# -- reviewing --------------------------------------------------------------------------------------------------------
SUSPICIOUS = {"gc", "ctypes", "inspect", "_getframe", "f_back", "f_locals", "f_globals", "__code__", "__globals__",
              "__builtins__", "builtins", "get_ipython", "setattr", "__dict__", "__eq__", "__class__", "importlib",
              "subprocess", "socket", "os", "open", "exec", "eval", "__import__", "sys", "threading", "signal"}


def review(cells: list) -> list[str]:
    """Names in the student's code that a pure-function exercise never needs: for the instructor to look at."""
    found = set()
    for kind, source, _ in cells:
        if kind not in ("answer", "student"):
            continue
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [alias.name.split(".")[0] for alias in node.names] + [(getattr(node, "module", "") or "")]
                found.update(n.split(".")[0] for n in names if n.split(".")[0] in SUSPICIOUS)
            elif name in SUSPICIOUS:
                found.add(name)
    return sorted(found)


# -- grading ----------------------------------------------------------------------------------------------------------
def score(cells: list, executed: list, stopped: str) -> list[dict]:
    """One row per test cell, with nbgrader's rule: an error (or stderr) scores 0, otherwise full points."""
    tests = []
    for (kind, _, source_cell), cell in zip(cells, executed, strict=True):
        if kind != "test":
            continue
        row = {"name": source_cell.grade_id, "max_score": source_cell.points, "score": 0.0}
        if cell is None:
            row["message"] = "did not run: " + (stopped or "an earlier cell stopped the notebook")
        else:
            cell.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True,
                                         "grade_id": source_cell.grade_id, "points": source_cell.points}
            points, _ = determine_grade(cell)
            row["score"] = float(points or 0.0)
            row["message"] = _error_message(cell.outputs) or ("passed" if row["score"] == row["max_score"]
                                                               else "partial credit")
        tests.append(row)
    return tests


def zero(job: Job, reason: str) -> list[dict]:
    return [{"name": cell.grade_id, "max_score": cell.points, "score": 0.0, "message": f"not run: {reason}"}
            for cell in job.cells if cell.kind == "test"]


def grade_notebook(job: Job, kernels: Kernels | None = None) -> Result:
    """Grade one submission. Student-caused problems give zero or partial marks with a notice; only a failure of
    the grader itself sets ``failure``."""
    if kernels is None:
        kernels = Kernels(job.sandbox, 0, job.homes, prefetch=False)
        try:
            return grade_notebook(job, kernels)
        finally:
            kernels.close()
    start = time.monotonic()
    result = Result(job.student, job.assignment, job.notebook, job.timestamp)
    try:
        nb = read_submission(job.path)
    except ValueError as error:
        result.notices.append(f"{error}: every test scores 0")
        result.tests = zero(job, str(error))
    except OSError as error:
        result.failure = f"could not read the submission: {error}"
    else:
        try:
            cells, result.notices = reconcile(nb, job.cells)
            result.review = review(cells)
            result.answers = [(cell.grade_id if cell else "added cell", source) for kind, source, cell in cells
                              if kind in ("answer", "student")]
            executed, stopped, truncated = execute(cells, job, kernels)
            result.tests = score(cells, executed, stopped)
            result.notices += [stopped] if stopped else []
            if truncated:
                result.notices.append("the notebook printed more than 1 MB: the rest of its output was dropped")
            for (kind, _, source_cell), cell in zip(cells, executed, strict=True):
                message = _error_message(cell.outputs) if cell is not None and kind == "answer" else ""
                if message.startswith("it was stopped"):
                    result.notices.append(f"your answer '{source_cell.grade_id}' was stopped after {job.timeout} s "
                                          "(an infinite loop?)")
            for (_, source, _), cell in zip(cells, executed, strict=True):
                if cell is not None:
                    cell.source = source  # the code as written, not as the guard rewrote it
            result.executed = nbformat.v4.new_notebook(cells=[cell for cell in executed if cell is not None])
        except Exception as error:  # the grader's own failure: reported, never guessed into a grade
            result.failure = f"{type(error).__name__}: {_first_line(error)}"
    result.seconds = time.monotonic() - start
    return result
