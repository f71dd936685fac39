"""How long does `make book` take? The cold full build, then the cached rebuild, against the issue's targets.

Runs `make book` in a fresh copy of the repository (the working tree without _build/ and .git/, sharing this
.venv through a symbolic link), so your own _build/ is not touched:

1. cold: no _build/ at all; every notebook is executed.
2. cached: `make book` again with nothing changed; Sphinx reads nothing and rewrites nothing.
3. (with --touch-src) after editing a file in src/: every page is rebuilt (`make book` passes --all when what
   the notebooks import changes), which costs about as much as the cold build.

    .venv/bin/python benchmarks/bench_book.py              # cold + cached (about a minute)
    .venv/bin/python benchmarks/bench_book.py --touch-src  # also the rebuild after a change in src/

Targets (from the issue, on 2 cores): cold <= 120 s, cached <= 15 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"cold": 120.0, "cached": 15.0}
IGNORE = shutil.ignore_patterns(".venv", ".git", "_build", "__pycache__", ".hypothesis", ".ruff_cache",
                                ".ipynb_checkpoints", "submitted", "autograded", "feedback", "gradebook.db")


def make_book(tree: Path) -> float:
    """Seconds `make book` takes in ``tree`` (the shared .venv taken as up to date); raises if it fails."""
    start = time.perf_counter()
    command = ["make", "-o", ".venv/.installed", "book"]  # never reinstall the shared .venv
    result = subprocess.run(command, cwd=tree, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                            env={**os.environ, "CI": "true"}, check=False)
    seconds = time.perf_counter() - start
    if result.returncode:
        raise RuntimeError(f"make book failed in {tree}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return seconds


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--touch-src", action="store_true", help="also time the rebuild after a change in src/")
    args = parser.parse_args(argv)
    times = {}
    with tempfile.TemporaryDirectory(prefix="bench_book_") as tmp:
        tree = Path(tmp) / "descent"
        shutil.copytree(ROOT, tree, ignore=IGNORE, symlinks=True)
        (tree / ".venv").symlink_to(ROOT / ".venv")
        times["cold"] = make_book(tree)
        times["cached"] = make_book(tree)
        if args.touch_src:
            module = tree / "src" / "descent" / "__init__.py"
            module.write_text(module.read_text() + "\n# touched by benchmarks/bench_book.py\n")
            times["after a change in src/"] = make_book(tree)
    print(f"make book on {os.cpu_count()} cores (Python {sys.version.split()[0]})")
    print(f"{'build':<24}{'seconds':>9}{'target':>9}")
    for name, seconds in times.items():
        target = TARGETS.get(name)
        verdict = "" if target is None else f"{target:>7.0f} s  {'ok' if seconds <= target else 'SLOWER'}"
        print(f"{name:<24}{seconds:>9.1f}  {verdict}")
    return times


if __name__ == "__main__":
    main()
