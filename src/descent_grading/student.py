"""The student's process: runs inside the sandbox, executes the student's cells and answers the grader's calls.

``python -I student.py GRADER_DIR DESCENT_DIR REQUESTS REPLIES INTERRUPTS`` (three inherited file descriptors). It
imports nothing of the grader but ``wire`` and finds ``descent`` in DESCENT_DIR: the assignment's copy, in which
the functions the students must write are withheld. Everything here is the student's to change, so nothing here
is a defence: the grader trusts only what ``wire.decode`` rebuilds from what this process sends.

Requests are pickles from the grader; every one may carry ``bind``, names to set in the student's namespace first
(a test that temporarily replaces one of the student's functions). Functions of the student's travel as handles
(``["handle", n]``); the grader's functions arrive as callbacks (``["callback", n]``): calling one asks the grader
to run it, with plain data as arguments, and serves the grader's requests until its result comes back.
- ``{"op": "run", "source", "want"}`` runs a cell and describes the names in ``want`` that are defined now:
  ``{"handle": n}`` for a callable, ``{"value": ...}`` for plain data, ``{"opaque": type}`` otherwise.
- ``{"op": "call", "target", "arguments"}`` calls a handle; the reply has the value or what it raised, and the new
  value of each argument the call changed in place.
- ``{"op": "result", "id", ...}`` answers this process's callback ``id``.
Replies are JSON with the request's ``id`` and what the cell or call printed. A byte on INTERRUPTS raises
KeyboardInterrupt in running student code; the end of INTERRUPTS (the grader is gone) ends the process.
"""

import sys

GRADER, DESCENT = sys.argv[1], sys.argv[2]
sys.path[:0] = [DESCENT, GRADER]

import builtins  # noqa: E402
import copy  # noqa: E402
import io  # noqa: E402
import os  # noqa: E402
import pickle  # noqa: E402
import signal  # noqa: E402
import threading  # noqa: E402
import types  # noqa: E402

import numpy as np  # noqa: E402

import descent  # noqa: E402, F401 (imported before any student code, as a kernel with the course would)
import wire  # noqa: E402

MAX_OUTPUT = 1 << 20  # characters of stdout and stderr kept per cell or call


class Capped(io.TextIOBase):
    """A stream that keeps the first MAX_OUTPUT characters written to it."""

    def __init__(self):
        self.parts, self.size = [], 0

    def write(self, text):
        text = str(text)
        if self.size < MAX_OUTPUT:
            self.parts.append(text[: MAX_OUTPUT - self.size])
        self.size += len(text)
        return len(text)

    def getvalue(self):
        return "".join(self.parts) + ("\n[output cut at 1 MB]\n" if self.size > MAX_OUTPUT else "")


def raised(error: BaseException) -> dict:
    try:
        message = str(error)
    except BaseException:
        message = "(its message could not be read)"
    base = next(cls.__name__ for cls in type(error).__mro__ if getattr(builtins, cls.__name__, None) is cls)
    return {"type": type(error).__name__[:80], "builtin": base, "message": message[:4000]}


def reraise(description: dict) -> BaseException:
    cls = getattr(builtins, str(description.get("builtin")), None)
    cls = cls if isinstance(cls, type) and issubclass(cls, BaseException) else RuntimeError
    try:
        return cls(str(description.get("message", "")))
    except TypeError:
        return RuntimeError(str(description.get("message", "")))


def _state(value):
    """What a call can change in place: arrays, lists, dicts (deeply) and random generators."""
    if isinstance(value, np.random.Generator):
        return ("rng", value.bit_generator.state)
    return ("value", copy.deepcopy(value))


def _same(before, after) -> bool:
    if type(before) is not type(after):
        return False
    if isinstance(before, np.ndarray):
        if before.shape != after.shape or before.dtype != after.dtype:
            return False
        return bool(np.array_equal(before, after, equal_nan=before.dtype.kind in "fc"))
    if isinstance(before, list | tuple):
        return len(before) == len(after) and all(map(_same, before, after))
    if isinstance(before, dict):
        return before.keys() == after.keys() and all(_same(before[key], after[key]) for key in before)
    return before == after if isinstance(before, int | float | str | bool) else True


class Runner:
    def __init__(self, requests: int, replies: int, interrupts: int):
        self.read = os.fdopen(requests, "rb", buffering=0).read
        self.replies = replies
        self.ns = {"__name__": "__main__", "__builtins__": builtins}
        self.handles: dict[int, object] = {}
        self.keys: dict[int, int] = {}  # id(object) -> its handle
        self.callbacks = 0
        self.busy = False
        signal.signal(signal.SIGINT, self.on_interrupt)
        threading.Thread(target=self.watch, args=(interrupts, threading.main_thread().ident), daemon=True).start()

    # -- interrupts -------------------------------------------------------------------------------------------------
    def on_interrupt(self, signum, frame):
        if self.busy:
            raise KeyboardInterrupt

    @staticmethod
    def watch(fd: int, main: int) -> None:
        while os.read(fd, 1):
            signal.pthread_kill(main, signal.SIGINT)
        os._exit(0)  # the grader is gone

    # -- objects crossing ---------------------------------------------------------------------------------------------
    def handle(self, value) -> int:
        key = self.keys.get(id(value))
        if key is None or self.handles[key] is not value:
            key = self.keys[id(value)] = len(self.handles) + 1
            self.handles[key] = value
        return key

    def loads(self, data: bytes):
        runner = self

        class Unpickler(pickle.Unpickler):
            def persistent_load(self, pid):
                kind, key = pid
                return runner.handles[key] if kind == "handle" else runner.callback_stub(key)

        return Unpickler(io.BytesIO(data)).load()

    def callback_stub(self, key: int):
        def grader_function(*args, **kwargs):
            return self.callback(key, args, kwargs)
        return grader_function

    def callback(self, key: int, args: tuple, kwargs: dict):
        """Ask the grader to run its function ``key``; serve its requests until the result comes back."""
        self.callbacks += 1
        ticket, saved = self.callbacks, self.busy
        encoded = wire.encode([list(args), kwargs], self.handle)
        if not wire.is_plain(encoded):
            raise TypeError("the grader's functions take numbers, arrays, and tuples, lists and dicts of them")
        self.busy = False
        try:
            self.send({"callback": ticket, "target": key, "arguments": encoded})
            answer = self.serve(until=ticket)
        finally:
            self.busy = saved
        if "raised" in answer:
            raise reraise(answer["raised"])
        return self.loads(answer["value"])

    # -- running student code ---------------------------------------------------------------------------------------
    def student(self, function, *args):
        """``function(*args)`` as student code: output captured, interrupts allowed, what it raises reported."""
        out, err = Capped(), Capped()
        saved = sys.stdout, sys.stderr, self.busy
        sys.stdout, sys.stderr = out, err
        outcome = {}
        try:
            self.busy = True
            try:
                outcome["value"] = function(*args)
            finally:
                self.busy = saved[2]
        except BaseException as error:
            outcome["raised"] = raised(error)
        finally:
            sys.stdout, sys.stderr = saved[:2]
        outcome["stdout"], outcome["stderr"] = out.getvalue(), err.getvalue()
        return outcome

    def exec_cell(self, source: str) -> None:
        exec(compile(source, "<cell>", "exec"), self.ns)

    def describe(self, value):
        if isinstance(value, types.ModuleType):
            return None
        if callable(value):
            return {"handle": self.handle(value)}
        encoded = wire.encode(value)
        return {"value": encoded} if wire.is_plain(encoded) else {"opaque": type(value).__name__}

    def run(self, request: dict) -> dict:
        reply = self.student(self.exec_cell, request["source"])
        reply.pop("value", None)
        names = {}
        for name in request.get("want", ()):
            if name in self.ns:
                try:
                    described = self.describe(self.ns[name])
                except Exception:
                    described = {"opaque": "unreadable value"}
                if described is not None:
                    names[name] = described
        reply["names"] = names
        return reply

    def call(self, request: dict) -> dict:
        args, kwargs = self.loads(request["arguments"])
        try:
            before = [_state(value) for value in (*args, *kwargs.values())]
        except Exception:
            before = None
        _, key = request["target"]
        reply = self.student(lambda: self.handles[key](*args, **kwargs))
        if "raised" not in reply:
            reply["value"] = wire.encode(reply["value"], self.handle)
        reply["changed"] = []
        for index, (name, value) in enumerate([*enumerate(args), *kwargs.items()]):
            if before is not None:
                kind, old = before[index]
                new = value.bit_generator.state if kind == "rng" else value
                if not _same(old, new):
                    reply["changed"].append([name, kind, wire.encode(new)])
        return reply

    # -- the loop ----------------------------------------------------------------------------------------------------
    def serve(self, until: int | None = None) -> dict:
        """Answer requests until the grader closes the channel, or until the result of callback ``until``."""
        while True:
            try:
                request = pickle.loads(wire.read_frame(self.read))
            except wire.FrameError:
                os._exit(0)  # the grader closed the channel
            if request.get("op") == "result":
                if request.get("id") != until:
                    os._exit(3)  # out of turn: the grader's side is confused, so stop
                return request
            try:
                for name, value in request.get("bind", {}).items():
                    if value is None:
                        self.ns.pop(name, None)
                    else:
                        self.ns[name] = self.loads(value)
                reply = self.run(request) if request["op"] == "run" else self.call(request)
            except Exception as error:
                reply = {"raised": raised(error), "stdout": "", "stderr": ""}
            reply["id"] = request["id"]
            self.send(reply)

    def send(self, reply: dict) -> None:
        wire.write_frame(self.replies, wire.dumps(reply))


def display(*objects, **options) -> None:
    """Jupyter's ``display`` as plain text (the grader shows no rich output)."""
    print(*objects)


class Shell:
    """What ``get_ipython()`` returns while graded: the grader turns magics (``%pip``) and shell escapes into calls
    to it, and they do nothing (the sandbox has no network and no shell worth running)."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def close_other_files(keep: list[int]) -> None:
    """Close every inherited file but the three pipes (bubblewrap's option file among them)."""
    for fd in map(int, os.listdir("/proc/self/fd")):
        if fd > 2 and fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


if __name__ == "__main__":
    close_other_files(list(map(int, sys.argv[3:6])))
    builtins.display = display
    builtins.get_ipython = Shell
    runner = Runner(*map(int, sys.argv[3:6]))
    runner.send({"ready": True})
    runner.serve()
