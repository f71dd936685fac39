"""The trusted side: the instructor's cells run here, in the grader's process, with the real ``descent``.

Each name the student's cells define that the instructor's cells use becomes, in the harness's namespace, a proxy
(``StudentFunction``) or a plain value. Calling a proxy runs the student's function in the student's process:
the arguments go there as pickles; only plain data comes back (``wire.decode``); what the function raised is raised
here as the same built-in exception type with its message; and what it changed in its arguments (arrays, lists,
dicts, random generators) is written back into the harness's arguments, so a test can check that inputs were left
alone. Student code therefore never sees a test's source, its expected values, this process's frames or modules,
and cannot change anything here.

The instructor's functions that a test passes in (``grad_f``, ``lambda p: mse(p, t)[0]``, a spy that records its
calls, the real ``descent``'s optimisers) stay here: the student's process gets a stub that calls back, with plain
data, and the function runs in the harness with the real ``descent`` and the test's own variables. A test may also
rebind an answer's name (``gradient_descent = spy``): the student's other functions see the new binding from the
next call on. (So a test must never hand the student's code the reference of the function it tests: the student's
code could keep it and return it.)
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import io
import pickle
import sys
import warnings
from dataclasses import dataclass, field

import nbformat
import numpy as np

from . import wire
from .crossing import NOT_PLAIN, Pickler, StudentFunction, Unusable, raised_here, described, writeback
from .plan import Step, python_source
from .process import StudentGone, StudentProcess

MAX_OUTPUT = 1 << 20  # characters of output kept per notebook; the rest is dropped (grades still count)
MISSING = object()
KERNEL_ERRSTATE = {"divide": "warn", "over": "warn", "invalid": "warn", "under": "ignore"}  # NumPy's defaults


class StudentTimeout(BaseException):
    """A call into the student's code was stopped at the time limit (not an Exception: tests cannot catch it)."""


@dataclass
class Outcome:
    """How one cell ran: its outputs (for the executed notebook and nbgrader's scoring) and what went wrong."""
    outputs: list = field(default_factory=list)
    ename: str = ""  # the exception's type, "" if the cell ran
    error: str = ""  # its message

    @property
    def failed(self) -> bool:
        return bool(self.ename)


class Capture(io.StringIO):
    def __init__(self, harness: Harness):
        super().__init__()
        self.harness = harness

    def write(self, text: str) -> int:
        if self.harness.room(len(text)):
            super().write(text)
        return len(text)


class Harness:
    def __init__(self, process: StudentProcess, want: set[str], answers: set[str] = frozenset()):
        """``want``: the names the tests take from the student's cells; ``answers``: those a test may rebind."""
        self.process, self.want, self.answers = process, sorted(want), sorted(answers)
        self.ns = {"__name__": "__main__", "__builtins__": builtins, "get_ipython": Shell}
        self.synced: set[str] = set()
        self.proxies: dict[int, StudentFunction] = {}
        self.bound: dict[str, object] = {}  # what each answer name is bound to in the student's process
        self.callbacks: list = []  # the instructor's functions the student's process may call back
        self.callback_keys: dict[int, int] = {}  # id(function) -> its index in callbacks
        self.deadline, self.output_chars, self.truncated = 0.0, 0, False
        self.withheld: set[str] = set()  # messages of withheld descent functions the student's code called
        self.notices: list[str] = []

    def room(self, size: int) -> bool:
        self.output_chars += size
        self.truncated |= self.output_chars > MAX_OUTPUT
        return self.output_chars <= MAX_OUTPUT

    # -- what crosses --------------------------------------------------------------------------------------------------
    def dumps(self, value) -> bytes:
        buffer = io.BytesIO()
        Pickler(buffer, self).dump(value)
        return buffer.getvalue()

    def register(self, function) -> int:
        key = self.callback_keys.get(id(function))
        if key is None or self.callbacks[key] is not function:
            key = self.callback_keys[id(function)] = len(self.callbacks)
            self.callbacks.append(function)
        return key

    def serve(self, frame: dict) -> dict:
        """Run the instructor's function the student's code called, with the plain data it passed."""
        answer = {"op": "result", "id": frame.get("callback")}
        try:
            function = self.callbacks[frame["target"]]
            args, kwargs = wire.decode(frame.get("arguments"), self._proxy)
            if type(args) is not list or type(kwargs) is not dict or not all(type(k) is str for k in kwargs):
                raise TypeError("unreadable arguments")
            answer["value"] = self.dumps(function(*args, **kwargs))
        except StudentGone:
            raise
        except BaseException as error:
            answer["raised"] = described(error)
        return answer

    def _request(self, message: dict, deadline: float) -> dict:
        message["bind"] = self._rebinds()
        return self.process.exchange(message, deadline, self.serve)

    def _rebinds(self) -> dict:
        """The answer names a test rebound since the student's process last saw them, with their new values."""
        changes = {}
        for name in self.answers:
            current = self.ns.get(name, MISSING)
            if current is not self.bound.get(name, MISSING):
                try:
                    changes[name] = None if current is MISSING else self.dumps(current)
                except (pickle.PicklingError, TypeError, AttributeError):
                    continue  # a value that cannot travel: the student's code keeps the old one
                self.bound[name] = current
        return changes

    # -- the student's process -----------------------------------------------------------------------------------------
    def run_student(self, source: str, deadline: float) -> Outcome:
        reply = self._request({"op": "run", "source": source, "want": self.want}, deadline)
        outcome = Outcome(self._streams(reply))
        if reply.get("timed_out"):
            outcome.ename, outcome.error = "Timeout", "it was stopped: it ran longer than the time limit per cell"
        elif isinstance(raised := reply.get("raised"), dict):
            error = self._note(raised_here(raised, ""), raised)
            outcome.ename, outcome.error = type(error).__name__, str(error)
        names = reply.get("names")
        self._sync(names if isinstance(names, dict) else {})
        return outcome

    def _sync(self, names: dict) -> None:
        for name in self.want:
            described = names.get(name)
            if not isinstance(described, dict):
                if name in self.synced:
                    del self.ns[name]
                    self.synced.discard(name)
                continue
            if type(described.get("handle")) is int:
                value = self._proxy(described["handle"], name)
            else:
                try:
                    value = wire.decode(described["value"]) if "value" in described else \
                        Unusable(name, f"a {str(described.get('opaque'))[:60]} object")
                except (wire.NotPlainData, KeyError, ValueError) as error:
                    value = Unusable(name, str(error) if isinstance(error, wire.NotPlainData) else "unreadable")
            self.ns[name] = value
            self.synced.add(name)
        for name in self.answers:
            self.bound[name] = self.ns.get(name, MISSING)

    def _streams(self, reply: dict) -> list:
        outputs = []
        for stream in ("stdout", "stderr"):
            text = reply.get(stream)
            if isinstance(text, str) and text and self.room(len(text)):
                outputs.append(nbformat.v4.new_output("stream", name=stream, text=text))
        return outputs

    def _note(self, error: Exception, raised: dict) -> Exception:
        if raised.get("type") == "WithheldError":
            self.withheld.add(str(raised.get("message", ""))[:200])
        return error

    def call(self, handle: int, args: tuple, kwargs: dict, name: str):
        """What a proxy does: run the student's function ``handle`` with these arguments in the student's process."""
        message = {"op": "call", "target": ["handle", handle], "arguments": self.dumps((args, kwargs))}
        reply = self._request(message, self.deadline)
        for stream, text in zip((sys.stdout, sys.stderr), (reply.get("stdout"), reply.get("stderr")), strict=True):
            if isinstance(text, str) and text:
                stream.write(text)
        if reply.get("timed_out"):
            raise StudentTimeout(f"{name} was stopped: it ran longer than the time limit per cell")
        for change in reply.get("changed", []) if isinstance(reply.get("changed"), list) else []:
            self._write_back(change, args, kwargs, name)
        if isinstance(raised := reply.get("raised"), dict):
            raise self._note(raised_here(raised, name), raised)
        try:
            return wire.decode(reply.get("value"), self._proxy)
        except wire.NotPlainData as error:
            raise TypeError(f"{name} returned {error}: {NOT_PLAIN}") from None

    def _write_back(self, change, args: tuple, kwargs: dict, name: str) -> None:
        """Make the harness's argument hold what the student's call changed it into."""
        key, kind, new = change if isinstance(change, list) and len(change) == 3 else (None, None, None)
        if type(key) is int and 0 <= key < len(args):
            old = args[key]
        elif type(key) is str and key in kwargs:
            old = kwargs[key]
        else:
            return
        try:
            value = wire.decode(new)
            if kind == "rng" and isinstance(old, np.random.Generator):
                old.bit_generator.state = value
            elif kind == "value":
                writeback(old, value)
        except wire.NotPlainData as error:
            raise TypeError(f"{name} changed an argument into {error}: {NOT_PLAIN}") from None
        except (TypeError, ValueError, KeyError):
            raise TypeError(f"{name} left a random generator in a state NumPy cannot read") from None

    def _proxy(self, handle: int, name: str = "function") -> StudentFunction:
        if handle not in self.proxies:
            self.proxies[handle] = StudentFunction(self, handle, str(name)[:60])
        return self.proxies[handle]

    # -- this process ----------------------------------------------------------------------------------------------
    def run_here(self, source: str, deadline: float) -> Outcome:
        """Run an instructor's cell here, as a Jupyter kernel would: its output captured, its last expression's
        value as its result (nbgrader reads a number there as partial credit)."""
        self.deadline = deadline
        out, err = Capture(self), Capture(self)
        outcome, value = Outcome(), None
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), warnings.catch_warnings(), \
                np.errstate(**KERNEL_ERRSTATE):
            warnings.simplefilter("default")
            warnings.showwarning = _show_warning
            try:
                value = _exec(source, self.ns)
            except StudentTimeout as error:
                outcome.ename, outcome.error = "Timeout", str(error)
            except Exception as error:
                outcome.ename, outcome.error = type(error).__name__, str(error)
            except StudentGone:
                outcome.outputs = self._captured(out, err)
                raise
        outcome.outputs = self._captured(out, err)
        if value is not None and not outcome.failed and not source.rstrip().endswith(";"):
            text = repr(value)[:10_000]
            outcome.outputs.append(nbformat.v4.new_output("execute_result", data={"text/plain": text},
                                                          execution_count=None))
        if outcome.failed:
            outcome.outputs.append(nbformat.v4.new_output("error", ename=outcome.ename, evalue=outcome.error[:4000],
                                                          traceback=[]))
        return outcome

    @staticmethod
    def _captured(out: Capture, err: Capture) -> list:
        return [nbformat.v4.new_output("stream", name=name, text=stream.getvalue())
                for name, stream in (("stdout", out), ("stderr", err)) if stream.getvalue()]

    def run(self, step: Step, deadline: float) -> Outcome:
        """Run one step where it belongs: a student's cell there, a test here, a read-only cell in both."""
        source = python_source(step.source)
        if step.student:
            return self.run_student(source, deadline)
        if step.kind == "setup":  # the student's process needs its names too; what counts is how it ran here
            self.run_student(source, deadline)
        return self.run_here(source, deadline)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings go to the cell's stderr, as a kernel shows them."""
    sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


class Shell:
    """``get_ipython()`` in the harness: magics in the instructor's cells (``%pip`` for Colab) do nothing here."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def _exec(source: str, namespace: dict):
    """Execute a cell; return the value of its last line if that is an expression."""
    tree = ast.parse(source)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, "<cell>", "exec"), namespace)
    return eval(compile(ast.Expression(last.value), "<cell>", "eval"), namespace) if last else None

