"""A throwaway PostgreSQL server for the tests: initdb into a fresh folder under /tmp, listening only on a Unix
socket in that folder, stopped and deleted at the end. PostgreSQL refuses to run as root, so as root (CI) the server
runs as the user nobody, in a folder nobody owns; as anyone else it runs as you.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

USER = "descent"  # the database superuser initdb creates; local connections are trusted (the socket is private)
NOBODY = 65534


def bin_dir() -> Path | None:
    """Where initdb and pg_ctl are: on PATH, else Debian's /usr/lib/postgresql/<version>/bin (newest first)."""
    if found := shutil.which("pg_ctl"):
        return Path(found).parent
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]), reverse=True)
    return debian[0].parent if debian else None


class Server:
    def __init__(self, socket_dir: Path):
        self.socket_dir = socket_dir

    def new_database(self, name: str) -> str:
        """Create an empty database and return its SQLAlchemy URL (psycopg 3 over the Unix socket)."""
        import psycopg

        with psycopg.connect(host=str(self.socket_dir), dbname="postgres", user=USER, autocommit=True) as db:
            db.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://{USER}@/{name}?host={self.socket_dir}"


@contextmanager
def server(bindir: Path) -> Iterator[Server]:
    folder = Path(tempfile.mkdtemp(prefix="descent-pg-"))  # short: a socket path must fit in 107 bytes
    as_root = os.geteuid() == 0
    prefix = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"] if as_root else []
    if as_root:
        os.chown(folder, NOBODY, NOBODY)
    data, log = folder / "data", folder / "server.log"

    def run(*command: str) -> None:
        done = subprocess.run([*prefix, *command], cwd=folder, capture_output=True, text=True, timeout=120,
                              stdin=subprocess.DEVNULL)
        if done.returncode:
            tail = log.read_text()[-3000:] if log.exists() else ""
            raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}{tail}")

    try:
        run(str(bindir / "initdb"), "-D", str(data), "-U", USER, "--auth=trust", "-E", "UTF8", "--locale=C")
        run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-o",
            f"-k {folder} -c listen_addresses='' -c fsync=off", "start")
        try:
            yield Server(folder)
        finally:
            run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
