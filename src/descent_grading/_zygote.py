"""A kernel factory: ``python -m descent_grading._zygote SOCKET``, one per grading worker, started as root.

It imports the kernel's world once (ipykernel, IPython, numpy, descent), then for each request forks a fresh
kernel: the child leaves the factory's session, enters new mount and network namespaces (when asked), hides the
grader's files, drops to the sandbox user and starts ipykernel. A kernel costs a fork instead of a Python start
and a second of imports. The factory never runs student code itself.

Protocol, on a Unix socket: the launcher (``LAUNCHER``, what jupyter_client starts as "the kernel") sends one JSON
line: ``{"argv": kernel arguments, "spec": the jail's spec}``; the factory answers
``{"pid": n}``, forwards nothing, and answers ``{"exit": status}`` when the kernel ends. When the launcher's
connection closes (it was killed), the kernel's process group is killed.
"""

import json
import os
import selectors
import signal
import socket
import sys

from descent_grading import _jail

CLONE_NEWNS, CLONE_NEWNET, MS_REC, MS_PRIVATE, PR_SET_PDEATHSIG = 0x00020000, 0x40000000, 16384, 1 << 18, 1

# The launcher, run as `python -I -S -c LAUNCHER SOCKET REQUEST`: it stands for the kernel towards
# jupyter_client (which signals and kills it), forwarding interrupts to the real kernel.
LAUNCHER = """
import json, os, signal, socket, sys
conn = socket.socket(socket.AF_UNIX)
conn.connect(sys.argv[1])
conn.sendall(sys.argv[2].encode() + b"\\n")
stream = conn.makefile("r")
pid = json.loads(stream.readline())["pid"]
for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(number, lambda n, frame: os.kill(pid, n))
line = stream.readline()
sys.exit(json.loads(line).get("exit", 1) if line else 1)
"""


def _child(request: dict) -> None:
    """In the forked child: become the sandboxed kernel (never returns)."""
    os.closerange(3, 1 << 16)  # nothing of the factory's: other kernels' connections included
    os.setsid()
    spec = request["spec"]
    if spec["namespaces"]:
        _jail._check(_jail.LIBC.unshare(CLONE_NEWNS | CLONE_NEWNET), "unshare")
        _jail._mount("none", "/", "none", MS_REC | MS_PRIVATE)
    _jail.enter(spec)
    _jail.LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # after setuid, which clears it
    os.environ.clear()
    os.environ.update(spec["env"])
    for fd in range(3):
        os.dup2(os.open(os.devnull, os.O_RDWR), fd)
    from ipykernel.kernelapp import IPKernelApp

    IPKernelApp.launch_instance(argv=request["argv"])


def serve(path: str) -> None:
    import IPython  # noqa: F401 (the kernel's world, imported once for every fork)
    import ipykernel.ipkernel
    import ipykernel.kernelapp  # noqa: F401
    import numpy  # noqa: F401

    import descent  # noqa: F401

    signal.signal(signal.SIGCHLD, lambda *args: None)  # wake select() when a kernel ends
    server = socket.socket(socket.AF_UNIX)
    server.bind(path)
    os.chmod(path, 0o600)
    server.listen()
    selector = selectors.DefaultSelector()
    selector.register(server, selectors.EVENT_READ)
    kernels: dict = {}  # connection -> pid
    while True:
        for key, _ in selector.select(timeout=1.0):
            if key.fileobj is server:
                conn, _ = server.accept()
                request = json.loads(conn.makefile("r").readline())
                pid = os.fork()
                if pid == 0:
                    try:
                        _child(request)
                    finally:
                        os._exit(1)
                conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")
                kernels[conn] = pid
                selector.register(conn, selectors.EVENT_READ)
            else:  # the launcher is gone: so is its kernel
                conn = key.fileobj
                selector.unregister(conn)
                _kill(kernels.pop(conn))
                conn.close()
        for conn, pid in list(kernels.items()):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                try:
                    os.killpg(pid, signal.SIGKILL)  # whatever the kernel started
                except OSError:
                    pass
                try:
                    conn.sendall(json.dumps({"exit": os.waitstatus_to_exitcode(status)}).encode() + b"\n")
                except OSError:
                    pass
                selector.unregister(conn)
                conn.close()
                del kernels[conn]


def _kill(pid: int) -> None:
    """Kill the kernel's process group and reap the kernel."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


if __name__ == "__main__":
    serve(sys.argv[1])
