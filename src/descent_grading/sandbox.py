"""Where student code runs: a kernel per notebook, as an unprivileged user, that cannot see the grader's files.

Three levels, the best the machine allows (``prepare`` picks it and says which in the closing summary):

- ``namespaces`` (root, and ``unshare`` works): the kernel runs as ``descent-sandbox<N>`` in fresh mount and
  network namespaces; the solutions, the gradebook, ``.git`` and every submission are covered by empty read-only
  mounts (a private folder holding this Python, such as ``/root``, by one holding only the Python); it talks to
  the grader over Unix sockets and has no network. Kernels are forked from a ready-imported ``Zygote`` per worker
  (if that fails, each starts through ``unshare`` and ``_jail.py``, in a pid namespace too); a kernel's process
  group is killed with it, and the kernel dies with its worker.
- ``user`` (root without namespaces): the same user and limits, but the grader's files are protected only by
  their permissions (the work folder and the gradebook are private; a world-readable ``solutions/`` is readable).
- ``none`` (not root): the kernel runs as you. A warning says so; run ``make grade`` as root (e.g. in a container).

Run one ``make grade`` at a time on a machine: runs share the sandbox users, and a kernel's user is cleared of
processes before it is used again.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field

from jupyter_client.manager import AsyncKernelManager

USER = "descent-sandbox{index}"  # two per worker, alternating: a kernel never shares its user with the next one
UNSHARE = ["--mount", "--pid", "--net", "--fork", "--kill-child", "--mount-proc", "--propagation", "private"]
KERNEL_ENV = {  # the kernel's whole environment: nothing of the grader's leaks in
    "PATH": os.path.dirname(sys.executable) + ":/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "PYTHONNOUSERSITE": "1",
    "PYTHONDONTWRITEBYTECODE": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "MPLBACKEND": "Agg",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
}


@dataclass(frozen=True)
class Sandbox:
    level: str  # "namespaces", "user" or "none"
    users: tuple = ()  # (uid, gid): two per worker, used in turns
    hide: tuple = ()  # paths covered by empty mounts in the kernel's namespace
    warning: str = ""
    unshare: tuple = field(default=())  # the namespaces' command prefix
    reaper: tuple = field(default=())  # kills the kernel if its grading worker dies: setpriv --pdeathsig KILL

    def describe(self) -> str:
        return {
            "namespaces": "student code ran as an unprivileged user, without network, in a private file-system view "
            "(no solutions, gradebook or other submissions)",
            "user": "student code ran as an unprivileged user (no private file-system view: " + self.warning + ")",
            "none": "student code ran with YOUR rights: " + self.warning,
        }[self.level]


def _user(index: int) -> tuple[int, int]:
    name = USER.format(index=index)
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
                        "--shell", "/usr/sbin/nologin", "--user-group", name],
                       check=True, capture_output=True, text=True)
        entry = pwd.getpwnam(name)
    return entry.pw_uid, entry.pw_gid


def prepare(jobs: int, hide: list[str], parent: str) -> Sandbox:
    """The strongest sandbox this machine allows for ``jobs`` parallel kernels, hiding ``hide`` from them
    (``parent`` is a folder the sandbox users can pass through, for a trial run)."""
    sandbox = _strongest(jobs, hide)
    if sandbox.level != "none" and (problem := works(sandbox, parent)):
        if sandbox.level == "namespaces":
            sandbox = Sandbox("user", sandbox.users, warning=f"the namespace sandbox failed ({problem})",
                              reaper=sandbox.reaper)
            problem = works(sandbox, parent)
        if problem:
            return Sandbox("none", warning=f"the sandbox user cannot run this Python ({problem}); "
                                           "is it installed in a private folder such as /root?")
    return sandbox


def _strongest(jobs: int, hide: list[str]) -> Sandbox:
    if os.geteuid() != 0:
        return Sandbox("none", warning="not root, so it could read solutions/ and write the gradebook; "
                                       "run make grade as root (e.g. in a container) to isolate it")
    try:
        users = tuple(_user(index) for index in range(2 * jobs))
    except (OSError, subprocess.CalledProcessError) as error:
        return Sandbox("none", warning=f"could not create the sandbox users ({error})")
    setpriv, unshare = shutil.which("setpriv"), shutil.which("unshare")
    reaper = (setpriv, "--pdeathsig", "KILL", "--") if setpriv else ()
    if unshare:
        probe = subprocess.run([unshare, *UNSHARE, "true"], capture_output=True, text=True)
        if probe.returncode == 0:
            paths = tuple(sorted({os.path.realpath(path) for path in hide if os.path.exists(path)}))
            return Sandbox("namespaces", users, paths, unshare=(unshare, *UNSHARE), reaper=reaper)
        reason = probe.stderr.strip() or f"unshare exited with {probe.returncode}"
    else:
        reason = "unshare is not installed"
    return Sandbox("user", users, warning=f"no mount namespaces: {reason}; keep solutions/ private (chmod 700)",
                   reaper=reaper)


def kernel_home(parent: str, sandbox: Sandbox, user: int) -> str:
    """A fresh, empty folder that only the kernel's user can enter: the kernel's home and working folder."""
    home = os.path.join(parent, f"kernel-{os.urandom(8).hex()}")
    os.mkdir(home, 0o700)
    if sandbox.users:
        os.chown(home, *sandbox.users[user])
    return home


def kill_user(sandbox: Sandbox, user: int) -> None:
    """Kill every process of a sandbox user: what is left of the kernel that used it before."""
    if not sandbox.users:
        return
    uid = sandbox.users[user][0]
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/status") as status:
                owner = next(line for line in status if line.startswith("Uid:")).split()[1]
            if int(owner) == uid:
                os.kill(int(pid), 9)
        except (OSError, StopIteration, ValueError):
            pass


class Zygote:
    """A worker's kernel factory (``_zygote.py``): forks ready-imported kernels instead of starting Pythons."""

    def __init__(self, sandbox: Sandbox, parent: str):
        self.socket = os.path.join(parent, f"zygote-{os.urandom(6).hex()}.sock")
        env = {**KERNEL_ENV, "HOME": parent}
        self.process = subprocess.Popen([*sandbox.reaper, sys.executable, "-I", "-m", "descent_grading._zygote",
                                         self.socket], env=env, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while not os.path.exists(self.socket):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError("the kernel factory did not start")
            time.sleep(0.02)

    def command(self, spec: dict, kernel_command: list[str]) -> list[str]:
        from ._zygote import LAUNCHER

        argv = kernel_command[kernel_command.index("ipykernel_launcher") + 1:]
        request = {"argv": argv, "spec": spec}
        return [sys.executable, "-I", "-S", "-c", LAUNCHER, self.socket, json.dumps(request)]

    def close(self) -> None:
        self.process.kill()
        self.process.wait()
        if os.path.exists(self.socket):
            os.unlink(self.socket)


class SandboxKernelManager(AsyncKernelManager):
    """Starts the kernel through ``unshare`` and ``descent_grading._jail``, or forks it from a ``Zygote``."""

    zygote: Zygote | None = None

    def configure(self, sandbox: Sandbox, user: int, home: str, zygote: Zygote | None = None) -> SandboxKernelManager:
        self.sandbox, self.user, self.home, self.zygote = sandbox, user, home, zygote
        self.connection_file = os.path.join(home, "kernel.json")
        if sandbox.level == "namespaces":  # no network inside: the kernel talks over Unix sockets in its home
            self.transport, self.ip = "ipc", os.path.join(home, "zmq")
        return self

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        command = super().format_kernel_cmd(extra_arguments)
        if self.sandbox.level == "none":
            return command
        os.chown(self.connection_file, *self.sandbox.users[self.user])
        if self.zygote:
            return self.zygote.command(jail_spec(self.sandbox, self.user, self.home), command)
        return jail_command(self.sandbox, self.user, self.home, command)


def needed_paths() -> list[str]:
    """What a kernel must reach: this Python, its venv and everything on its import path."""
    paths = {os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix)}
    paths.update(os.path.realpath(entry) for entry in sys.path if entry and os.path.isdir(entry))
    return sorted(paths)


def jail_spec(sandbox: Sandbox, user: int, home: str) -> dict:
    uid, gid = sandbox.users[user]
    env = {**KERNEL_ENV, "HOME": home, "TMPDIR": home, "IPYTHONDIR": os.path.join(home, ".ipython"),
           "MPLCONFIGDIR": os.path.join(home, ".matplotlib")}
    return {"hide": list(sandbox.hide), "expose": needed_paths(), "uid": uid, "gid": gid, "home": home, "env": env,
            "namespaces": sandbox.level == "namespaces"}


def jail_command(sandbox: Sandbox, user: int, home: str, command: list[str]) -> list[str]:
    spec = jail_spec(sandbox, user, home)
    jail = [sys.executable, "-I", "-m", "descent_grading._jail", json.dumps(spec), "--"]
    return [*sandbox.reaper, *sandbox.unshare, *jail, *command]


def works(sandbox: Sandbox, parent: str) -> str:
    """"" if the first sandbox user can run Python with numpy and descent here, else why not."""
    home = kernel_home(parent, sandbox, 0)
    try:
        probe = subprocess.run(jail_command(sandbox, 0, home, [sys.executable, "-c", "import numpy, descent"]),
                               capture_output=True, text=True, timeout=120)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return "" if probe.returncode == 0 else (probe.stderr.strip().splitlines() or ["no error message"])[-1]
