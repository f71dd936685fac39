"""Session-wide fixtures: one book build (shared by tests/test_book.py and tests/test_browser.py) and one throwaway
PostgreSQL server (tests/postgres.py), and the grouping that keeps a parallel run (pytest-xdist) correct."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import postgres
import pytest
from hypothesis import settings

# CI runs the same examples every time (a red CI must be reproducible); local runs keep exploring new ones. No
# deadlines: these machines are shared and noisy, and speed is measured in benchmarks/, never asserted in tests.
settings.register_profile("ci", derandomize=True, deadline=None)
settings.register_profile("local", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "local")

ROOT = Path(__file__).resolve().parents[1]
JUPYTER_BOOK = Path(sys.executable).parent / "jupyter-book"
PROBE = "SOLUTION-PROBE-7f3a"  # planted in a solution notebook; must appear nowhere in the site
COPY_IGNORE = shutil.ignore_patterns(".venv", ".git", "_build", "__pycache__", ".hypothesis", ".ipynb_checkpoints",
                                     ".ruff_cache", "submitted", "autograded", "feedback", "gradebook.db")


def probe_notebook() -> dict:
    cell = {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
            "source": f"raise RuntimeError('{PROBE}: a solution notebook was executed by the book build')"}
    return {"cells": [cell], "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                          "language": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


@pytest.fixture(scope="session")
def book_html(tmp_path_factory) -> Path:
    """Build a fresh copy of the book, as CI does (every notebook executed, ``-W -n --keep-going``), with a
    solution notebook planted that must never be built, and return its ``_build/html`` folder."""
    src = tmp_path_factory.mktemp("book") / "descent"
    shutil.copytree(ROOT, src, ignore=COPY_IGNORE)
    probe = src / "solutions" / "99_probe" / "99_probe.ipynb"
    probe.parent.mkdir(parents=True)
    probe.write_text(json.dumps(probe_notebook()))
    out = tmp_path_factory.mktemp("out")
    command = [JUPYTER_BOOK, "build", src, "--path-output", out, "-W", "-n", "--keep-going"]
    result = subprocess.run(command, check=False, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    log = result.stdout[-4000:] + result.stderr[-4000:]
    assert result.returncode == 0, f"jupyter-book build failed:\n{log}"
    return out / "_build" / "html"


BOOK_TESTS = {"test_book.py", "test_browser.py"}  # they share the book_html fixture: one build, one worker


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: item.path.name not in BOOK_TESTS)  # the longest job starts first


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """`make test` runs on two workers (pytest-xdist). Each file goes whole to one worker (a notebook's cells share
    one kernel, a module's tests its fixtures), and the two book files go together (they share one build)."""
    from xdist.scheduler import LoadScopeScheduling

    class ByFile(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            file = nodeid.split("::", 1)[0]
            return "book" if Path(file).name in BOOK_TESTS else file

    return ByFile(config, log)


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL server for this session (``.new_database(name)`` gives a db_url); skipped only when PostgreSQL
    is not installed. A server that is installed but does not start is an error, not a skip."""
    bindir = postgres.bin_dir()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed (.ci/run installs Debian's postgresql): no initdb or pg_ctl found")
    with postgres.server(bindir) as server:
        yield server


def pytest_terminal_summary(terminalreporter):
    """Say loudly when the browser or PostgreSQL checks did not run (a skip is otherwise one letter in the progress
    line)."""
    for name, what in (("test_browser", "browser checks"), ("test_gradebook_postgres", "PostgreSQL gradebook checks")):
        skipped = [report for report in terminalreporter.stats.get("skipped", [])
                   if name in getattr(report, "nodeid", "")]
        if skipped:
            reason = skipped[0].longrepr[-1] if isinstance(skipped[0].longrepr, tuple) else skipped[0].longrepr
            terminalreporter.write_sep("!", f"{what} skipped: {reason}", yellow=True)
