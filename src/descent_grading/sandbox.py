"""Where student code runs: a bubblewrap sandbox (https://github.com/containers/bubblewrap) per notebook.

The sandbox sees an allow-list of read-only folders (the system's ``/usr``, this Python's prefix and its venv), the
assignment's copy of ``descent``, the two grader files the student's process runs, and a private 64 MiB home and
``/tmp``: nothing of the course tree, the solutions, the gradebook, other submissions or other sandboxes. It has
its own pid, network (none), ipc and uts namespaces, a cleared environment, and dies with the grader. Resource
limits: 4 GiB of memory, 256 tasks, 64 MiB files and the notebook's CPU time (cgroups through ``systemd-run``
where it works, else rlimits).

Two ways to start it, chosen by ``prepare``:
- **as root** (a container, a grading server): bubblewrap sets up the namespaces with root's rights and the
  student's process runs as an unused uid of its own per worker (``setpriv``), without capabilities;
- **as you** (a laptop): bubblewrap runs unprivileged in a user namespace, as Debian and most distributions
  allow. The student's process runs as you inside it, but sees only the allow-list.
Where neither works, grading refuses unless ``--unsandboxed`` is passed (then student code runs with your rights).
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

HOME = "/home/student"
GRADER = "/opt/grader"  # student.py and wire.py, read-only
DESCENT = "/opt/descent"  # the assignment's descent (its withheld functions raise)
GRADER_FILES = ("student.py", "wire.py")
MEMORY, TASKS, FILE_SIZE = 4 << 30, 256, 64 << 20
UID_BASE = 1_900_000_000  # root's sandboxes run as UID_BASE + (grader pid % 10⁶) * 64 + slot: unused uids
SLOTS = 64  # two per worker
ENV = {  # the student's process's whole environment
    "HOME": HOME, "TMPDIR": "/tmp", "LANG": "C.UTF-8", "PATH": "/usr/local/bin:/usr/bin:/bin",
    "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0", "MPLBACKEND": "Agg", "MPLCONFIGDIR": "/tmp/matplotlib",
    "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
}


class SandboxUnavailable(RuntimeError):
    """No sandbox can be made here; the message says why and what to do."""


@dataclass(frozen=True)
class Sandbox:
    mode: str  # "root", "user" or "none"
    bwrap: str = ""
    scope: tuple[str, ...] = ()  # systemd-run's cgroup scope, where it works
    readable: tuple[str, ...] = field(default=())  # the read-only allow-list

    def describe(self) -> str:
        limits = "cgroup limits (systemd-run)" if self.scope else "rlimits"
        return {
            "root": f"bubblewrap, as root: student code ran as an unprivileged uid of its own, without network, "
                    f"seeing only Python, the course's library and an empty home ({limits})",
            "user": f"bubblewrap in a user namespace (no root needed): student code ran without network, seeing "
                    f"only Python, the course's library and an empty home ({limits})",
            "none": "NONE (--unsandboxed): student code ran with your rights and could read and change your files",
        }[self.mode]

    def uid(self, slot: int) -> int:
        return UID_BASE + (os.getpid() % 1_000_000) * SLOTS + slot % SLOTS

    def command(self, argv: list[str], slot: int, descent: str, args_fd: int | None = None) -> list[str]:
        """The command line that runs ``argv`` (a Python command using GRADER and DESCENT) in the sandbox. With
        ``args_fd``, bubblewrap reads its options from that file (``options``), so that the sandbox's pid 1 (a
        bubblewrap process) does not show the grader's paths to the student's code in its command line."""
        if self.mode == "none":
            return argv
        runner = []
        if self.mode == "root":
            runner = [shutil.which("setpriv") or "setpriv", f"--reuid={self.uid(slot)}", f"--regid={self.uid(slot)}",
                      "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]
        options = ["--args", str(args_fd)] if args_fd is not None else self.options(descent)
        return [*self.scope, self.bwrap, *options, "--", *runner, *argv]

    def options(self, descent: str) -> list[str]:
        """bubblewrap's options: the namespaces, the allow-list of folders, the environment."""
        grader = Path(__file__).parent
        args = ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
                "--die-with-parent", "--new-session", "--clearenv", "--hostname", "sandbox"]
        if self.mode == "user":
            args += ["--unshare-user", "--disable-userns"]
        for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
            if os.path.islink(top):
                args += ["--symlink", os.readlink(top), top]
            elif os.path.isdir(top):
                args += ["--ro-bind", top, top]
        args += ["--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache"]
        # The private /tmp first: a venv under /tmp (a CI checkout) is then bound on top of it, not hidden by it.
        args += ["--perms", "1777", "--size", str(FILE_SIZE), "--tmpfs", "/tmp"]
        for path in self.readable:
            args += [*_parents(path), "--ro-bind", path, path]
        for path in installed_copies(self.readable):  # an installed (not editable) course: hide the full copy
            args += ["--tmpfs", path]
        args += [*_parents(DESCENT), "--ro-bind", descent, DESCENT, *_parents(f"{GRADER}/-")]
        for name in GRADER_FILES:
            args += ["--ro-bind", str(grader / name), f"{GRADER}/{name}"]
        args += ["--proc", "/proc", "--dev", "/dev", "--perms", "0777", "--size", str(FILE_SIZE), "--tmpfs", HOME,
                 "--chdir", HOME]
        for key, value in ENV.items():
            args += ["--setenv", key, value]
        if self.mode == "root":
            args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        return args

    def limits(self, cpu_seconds: int):
        """A ``preexec_fn`` that sets the rlimits the sandbox inherits."""
        tasks = TASKS if self.mode == "root" else _processes_of(os.getuid()) + TASKS  # rlimits count per user

        def apply() -> None:
            for limit, value in ((resource.RLIMIT_AS, MEMORY), (resource.RLIMIT_FSIZE, FILE_SIZE),
                                 (resource.RLIMIT_NPROC, tasks), (resource.RLIMIT_CPU, cpu_seconds),
                                 (resource.RLIMIT_CORE, 0)):
                hard = resource.getrlimit(limit)[1]
                value = value if hard == resource.RLIM_INFINITY else min(value, hard)
                resource.setrlimit(limit, (value, value))
        return apply


def _parents(path: str) -> list[str]:
    """bubblewrap makes missing parents of a mount point private (0700): make them traversable instead."""
    args = []
    for parent in reversed(Path(path).parents):
        if str(parent) not in ("/", "/tmp"):  # /tmp is the sandbox's own, writable by all
            args += ["--perms", "0755", "--dir", str(parent)]
    return args


def _processes_of(uid: int) -> int:
    count = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            count += os.stat(f"/proc/{pid}").st_uid == uid
        except OSError:
            pass
    return count


def allow_list() -> tuple[str, ...]:
    """The folders the student's process reads: /usr, and this Python's prefix and venv."""
    paths = {os.path.realpath(p) for p in ("/usr", sys.base_prefix, sys.prefix)}
    return tuple(sorted(p for p in paths if not any(p != q and p.startswith(q + "/") for q in paths)))


def installed_copies(readable: tuple[str, ...]) -> list[str]:
    """Copies of ``descent`` (and the grader) installed into a readable Python: the student's process must not
    find the full library beside the assignment's copy."""
    return sorted(str(path) for root in readable for pattern in ("lib/python3*/site-packages/descent",
                                                                 "lib/python3*/site-packages/descent_grading")
                  for path in Path(root).glob(pattern) if path.is_dir())


def _scope() -> tuple[str, ...]:
    """systemd-run's transient cgroup scope with the limits, where systemd runs this machine (not in most
    containers, which this probe tells)."""
    systemd_run = shutil.which("systemd-run")
    if not systemd_run or not os.path.isdir("/run/systemd/system"):
        return ()
    scope = (systemd_run, *(() if os.geteuid() == 0 else ("--user",)), "--scope", "--quiet", "--collect",
             "-p", f"MemoryMax={MEMORY}", "-p", f"TasksMax={TASKS}")
    probe = subprocess.run([*scope, "--", "true"], capture_output=True, timeout=30)
    return scope if probe.returncode == 0 else ()


def prepare(unsandboxed: bool = False) -> Sandbox:
    """The sandbox this machine allows, tried once; SandboxUnavailable says why there is none."""
    if unsandboxed:
        return Sandbox("none")
    bwrap = shutil.which("bwrap")
    if not bwrap:
        raise SandboxUnavailable("bubblewrap is not installed (Debian/Ubuntu: apt install bubblewrap; Fedora: dnf "
                                 "install bubblewrap). Or pass --unsandboxed to run student code with your rights.")
    sandbox = Sandbox("root" if os.geteuid() == 0 else "user", bwrap, _scope(), allow_list())
    if problem := _probe(sandbox):
        if sandbox.scope:  # systemd's scope is a bonus, not a requirement
            sandbox = Sandbox(sandbox.mode, bwrap, (), sandbox.readable)
            problem = _probe(sandbox)
    if problem:
        hint = ("" if sandbox.mode == "root" else " Unprivileged user namespaces may be disabled "
                "(sysctl kernel.unprivileged_userns_clone / user.max_user_namespaces): run as root, enable them,")
        raise SandboxUnavailable(f"bubblewrap could not start a sandbox here: {problem}.{hint or ' Fix that,'} or "
                                 "pass --unsandboxed to run student code with your rights.")
    return sandbox


def _probe(sandbox: Sandbox) -> str:
    """"" if the sandbox runs this Python with NumPy, else the last line of what went wrong."""
    import descent

    view = str(Path(descent.__file__).parents[1])
    command = sandbox.command([sys.executable, "-I", "-c", "import sys; sys.path.insert(0, '/opt/descent'); "
                               "import numpy, descent"], 0, view)
    try:
        probe = subprocess.run(command, capture_output=True, text=True, timeout=120, preexec_fn=sandbox.limits(60))
    except (OSError, subprocess.TimeoutExpired) as error:
        return str(error)
    return "" if probe.returncode == 0 else (probe.stderr.strip().splitlines() or ["no message"])[-1]
