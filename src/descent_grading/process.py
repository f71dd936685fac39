"""The grader's handle on one student process (``student.py`` in a sandbox): start it, talk to it with deadlines,
interrupt it, and kill it with everything it started.

Every request waits for its reply until a deadline; then the process is interrupted (KeyboardInterrupt in the
student's code) and given a few seconds to answer; a process that still does not answer, answers out of turn,
sends an unreadable or oversized reply, or ends, is killed and reported as ``StudentGone`` with a reason.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import wire
from .sandbox import DESCENT, GRADER, Sandbox

GRACE = 3.0  # seconds an interrupted process has to answer
BOOT = 60.0  # seconds to start


class StudentGone(BaseException):
    """The student's process ended or had to be killed; the message says why, for the student. (Not an Exception,
    so that a test's ``except Exception`` cannot swallow it.)"""


class StudentProcess:
    def __init__(self, sandbox: Sandbox, slot: int, view: str, cpu_seconds: int):
        """Start the process (it boots while the grader does other work: ``ready`` waits for it)."""
        child_ends, self.ids, self.buffer, self.runner = [], 0, bytearray(), 0
        pipes = [os.pipe() for _ in range(3)]  # requests, replies, interrupts
        child_ends = [pipes[0][0], pipes[1][1], pipes[2][0]]
        self.requests, self.replies, self.interrupts = pipes[0][1], pipes[1][0], pipes[2][1]
        for fd in (self.requests, self.replies, self.interrupts):
            os.set_blocking(fd, False)
        self.log = tempfile.TemporaryFile()
        argv = [sys.executable, "-I", f"{GRADER}/student.py", GRADER, DESCENT, *map(str, child_ends)]
        if sandbox.mode == "none":  # the same files, where they are
            argv[2:5] = [str(Path(__file__).with_name("student.py")), str(Path(__file__).parent), view]
        self.home = tempfile.mkdtemp(prefix="descent-student-") if sandbox.mode == "none" else None
        if sandbox.mode != "none":  # bubblewrap's options, read from a file rather than shown in its command line
            options = os.memfd_create("bwrap-options", 0)
            os.write(options, b"".join(arg.encode() + b"\0" for arg in sandbox.options(view)))
            os.lseek(options, 0, os.SEEK_SET)
            child_ends.append(options)
        try:
            command = sandbox.command(argv, slot, view, child_ends[3] if len(child_ends) > 3 else None)
            self.proc = subprocess.Popen(command, pass_fds=child_ends,
                                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.log,
                                         cwd=self.home, start_new_session=True,
                                         preexec_fn=sandbox.limits(cpu_seconds))
        finally:
            for fd in child_ends:
                os.close(fd)
        self.sandboxed = sandbox.mode != "none"

    # -- talking ----------------------------------------------------------------------------------------------------
    def ready(self) -> None:
        """Wait until the process has started (StudentGone if it cannot)."""
        try:
            reply = self._receive(time.monotonic() + BOOT)
        except TimeoutError:
            self.kill()
            raise StudentGone(f"the student's Python did not start within {BOOT:.0f} s") from None
        if reply.get("ready") is not True:
            self.kill()
            raise StudentGone("the student's Python did not start")
        self.runner = _leaf(self.proc.pid)

    def exchange(self, message: dict, deadline: float, serve=None) -> dict:
        """Send a request and return its reply. While it runs, the student's code may call the grader's functions:
        each such frame (``{"callback": ticket, ...}``) is answered with ``serve(frame)``, which may itself send
        requests. Past the deadline the student's code is interrupted; its reply then has ``"timed_out": True``."""
        self.ids += 1
        ident = message["id"] = self.ids
        interrupted = False
        try:
            self._send(pickle.dumps(message), deadline)
        except TimeoutError:
            interrupted, deadline = self._interrupt()
        while True:
            try:
                if time.monotonic() > deadline:  # checked here too: a stream of callbacks never times out below
                    raise TimeoutError
                reply = self._receive(deadline)
            except TimeoutError:
                if interrupted:
                    self.kill()
                    raise StudentGone("it did not stop when interrupted at the time limit, so its Python was "
                                      "stopped") from None
                interrupted, deadline = self._interrupt()
                continue
            if not isinstance(reply, dict):
                break
            if "callback" in reply and serve is not None:
                try:
                    self._send(pickle.dumps(serve(reply)), deadline)
                except TimeoutError:
                    pass  # the next turn of the loop interrupts
                continue
            if reply.get("id") != ident:
                break
            if interrupted:
                reply["timed_out"] = True
            return reply
        self.kill()
        raise StudentGone("its Python sent a reply out of turn (from a background thread or process?), so it was "
                          "stopped")

    def _interrupt(self) -> tuple[bool, float]:
        try:
            os.write(self.interrupts, b"!")
        except OSError:
            pass
        return True, time.monotonic() + GRACE

    def _send(self, payload: bytes, deadline: float) -> None:
        data = memoryview(struct.pack(">I", len(payload)) + payload)
        while data:
            if not select.select([], [self.requests], [], max(0.0, deadline - time.monotonic()))[1]:
                raise TimeoutError
            try:
                data = data[os.write(self.requests, data):]
            except BrokenPipeError:
                raise StudentGone(self._why_gone()) from None

    def _receive(self, deadline: float):
        while True:
            if len(self.buffer) >= wire.HEADER.size:
                (size,) = wire.HEADER.unpack_from(self.buffer)
                if size > wire.MAX_FRAME:
                    self.kill()
                    raise StudentGone(f"its Python sent back more than {wire.MAX_FRAME >> 20} MB, so it was stopped")
                if len(self.buffer) >= wire.HEADER.size + size:
                    frame = bytes(self.buffer[wire.HEADER.size:wire.HEADER.size + size])
                    del self.buffer[:wire.HEADER.size + size]
                    try:
                        return wire.loads(frame)
                    except wire.FrameError as error:
                        self.kill()
                        raise StudentGone(f"its Python sent {error}, so it was stopped") from None
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self.replies], [], [], remaining)[0]:
                raise TimeoutError
            chunk = os.read(self.replies, 1 << 20)
            if not chunk:
                raise StudentGone(self._why_gone())
            self.buffer += chunk

    # -- ending -----------------------------------------------------------------------------------------------------
    def _why_gone(self) -> str:
        try:
            code = self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.kill()
            return "its Python stopped answering"
        if code in (-signal.SIGXCPU, 128 + signal.SIGXCPU):
            return "its Python used up its CPU time and was stopped"
        if code < 0 or code > 128:
            name = signal.Signals(abs(code) % 128).name if abs(code) % 128 in signal.valid_signals() else code
            return f"its Python was stopped by {name} (a crash, or memory exhausted?)"
        self.log.seek(0)
        tail = self.log.read()[-2000:].decode(errors="replace").strip().splitlines()
        boot = f" ({tail[-1][:200]})" if tail and tail[-1].startswith("bwrap") else ""
        return f"its Python exited (exit code {code}: exit() or os._exit()?){boot}"

    def sweep(self) -> int:
        """Kill every process the student's code started and left running; return how many."""
        killed = 0
        for _ in range(50):  # a fork storm keeps forking while it is killed
            pids = _descendants(self.runner) if self.runner else []
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                    killed += 1
                except ProcessLookupError:
                    pass
            time.sleep(0.01)
        return killed

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()

    def close(self) -> None:
        """End the process and everything in its sandbox."""
        if self.proc.poll() is None:
            self.kill()
        for fd in (self.requests, self.replies, self.interrupts):
            try:
                os.close(fd)
            except OSError:
                pass
        self.log.close()
        if self.home:
            import shutil

            shutil.rmtree(self.home, ignore_errors=True)


def _children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for name in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{name}/stat", "rb") as handle:
                ppid = int(handle.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(name))
    return children


def _descendants(pid: int) -> list[int]:
    children, found, todo = _children(), [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _leaf(pid: int) -> int:
    """The process at the end of a chain of single children (bwrap → its pid 1 → the student's Python)."""
    children = _children()
    while len(children.get(pid, [])) == 1:
        pid = children[pid][0]
    return pid
