"""Start a grading kernel as an unprivileged user: ``python -m descent_grading._jail SPEC_JSON -- KERNEL_CMD...``.

Runs as root, already inside the fresh mount, pid and network namespaces that ``unshare`` made (when the machine
allows them). It hides the grader's files and the other kernels' homes by mounting empty, read-only file systems
over them, limits resources, drops to the sandbox user, enters the kernel's empty home and ``exec``s the kernel
with a clean environment. ``enter`` is shared with ``_zygote.py``. Deliberately small and dependency-free.
"""

import ctypes
import json
import os
import resource
import sys

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND, MS_REC, MNT_DETACH = 1, 2, 4, 8, 32, 4096, 16384, 2
LIMITS = {  # resource: soft = hard limit for the student's kernel and everything it starts
    resource.RLIMIT_AS: 4 << 30,  # 4 GiB of address space
    resource.RLIMIT_FSIZE: 64 << 20,  # no file larger than 64 MiB
    resource.RLIMIT_NPROC: 256,  # no fork bomb (counted per sandbox user)
    resource.RLIMIT_CORE: 0,
}


LIBC = ctypes.CDLL(None, use_errno=True)


def _check(status: int, what: str) -> None:
    if status != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _mount(source: str, target: str, fstype: str, flags: int, data: str = "") -> None:
    _check(LIBC.mount(source.encode(), target.encode(), fstype.encode(), flags, data.encode() or None),
           f"mount {source} over {target}")


def expose(paths: list[str], scratch: str) -> None:
    """Make each path reachable although an ancestor is private (a Python under /root, say): the private
    ancestor is replaced, in this namespace only, by an empty read-only folder holding just these paths."""
    covered = []
    for path in paths:
        parts = path.split("/")
        ancestors = ["/".join(parts[:i]) or "/" for i in range(2, len(parts))]
        blocked = next((a for a in ancestors if not os.stat(a).st_mode & 0o001), None)
        if blocked is None:
            continue
        stash = os.path.join(scratch, f".expose{len(covered)}")
        os.mkdir(stash, 0o700)
        _mount(path, stash, "none", MS_BIND | MS_REC)
        if blocked not in covered:
            _mount("none", blocked, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=0755")
            covered.append(blocked)
        os.makedirs(path, mode=0o755, exist_ok=True)
        _mount(stash, path, "none", MS_BIND | MS_REC)
        _check(LIBC.umount2(stash.encode(), MNT_DETACH), f"umount {stash}")
        os.rmdir(stash)
    for folder in covered:
        _mount("none", folder, "none", MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


def hide(path: str) -> None:
    """Make ``path`` an empty, read-only folder (or an empty file) in this mount namespace."""
    if os.path.isdir(path):
        _mount("none", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=000")
    elif os.path.exists(path):
        _mount("/dev/null", path, "none", MS_BIND)
        _mount("none", path, "none", MS_BIND | MS_REMOUNT | MS_RDONLY)


def isolate(home: str) -> None:
    """Cover the other kernels' homes: their parent becomes an empty read-only folder holding only ``home``."""
    fd = os.open(home, os.O_PATH | os.O_DIRECTORY)
    parent = os.path.dirname(home)
    _mount("none", parent, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=0711")
    os.mkdir(home, 0o700)
    _mount(f"/proc/self/fd/{fd}", home, "none", MS_BIND | MS_REC)
    os.close(fd)
    _mount("none", parent, "none", MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


def enter(spec: dict) -> None:
    """Everything between "root in fresh namespaces (or none)" and "the sandbox user in its home"."""
    if spec["namespaces"]:
        expose(spec["expose"], spec["home"])
        for path in spec["hide"]:
            hide(path)
        isolate(spec["home"])
    for limit, value in LIMITS.items():
        resource.setrlimit(limit, (value, value))
    if spec.get("uid") is not None:
        os.setgroups([])
        os.setgid(spec["gid"])
        os.setuid(spec["uid"])
    os.chdir(spec["home"])
    os.umask(0o077)


def main(argv: list[str]) -> None:
    spec = json.loads(argv[1])
    command = argv[argv.index("--") + 1 :]
    enter(spec)
    os.execve(command[0], command, spec["env"])


if __name__ == "__main__":
    main(sys.argv)
