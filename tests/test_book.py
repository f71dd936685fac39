"""The book builds with zero warnings, has exactly the pages in _toc.yml, and never publishes solutions."""

import json
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
JUPYTER_BOOK = Path(sys.executable).parent / "jupyter-book"
PROBE = "SOLUTION-PROBE-7f3a"  # planted in a solution notebook; must appear nowhere in the site


def toc_docs(toc_path):
    """Every document named in a jb-book _toc.yml, without suffix."""
    toc = yaml.safe_load(toc_path.read_text())
    docs = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                docs.append(entry["file"])
            walk(entry.get("sections"))

    for part in toc.get("parts", [{"chapters": toc.get("chapters")}]):
        walk(part.get("chapters"))
    return [str(Path(doc).with_suffix("")) for doc in docs]


def probe_notebook():
    cell = {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
            "source": f"raise RuntimeError('{PROBE}: a solution notebook was executed by the book build')"}
    return {"cells": [cell], "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                          "language": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


@pytest.fixture(scope="module")
def html(tmp_path_factory):
    """Build a copy of the book (with a planted solution notebook) and return its _build/html folder."""
    src = tmp_path_factory.mktemp("book") / "descent"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(".venv", ".git", "_build", "__pycache__",
                                                             ".hypothesis", ".ipynb_checkpoints"))
    probe = src / "solutions" / "99_probe" / "99_probe.ipynb"
    probe.parent.mkdir(parents=True)
    probe.write_text(json.dumps(probe_notebook()))
    out = tmp_path_factory.mktemp("out")
    command = [JUPYTER_BOOK, "build", src, "--path-output", out, "-W", "-n", "--keep-going"]
    result = subprocess.run(command, check=False, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    log = result.stdout[-4000:] + result.stderr[-4000:]
    assert result.returncode == 0, f"jupyter-book build failed:\n{log}"
    return out / "_build" / "html"


def test_the_landing_page_is_built(html):
    assert (html / "index.html").is_file()
    assert "Descent" in (html / "intro.html").read_text()


def test_the_site_has_exactly_the_pages_in_the_toc(html):
    built = {str(p.relative_to(html / "_sources")).split(".")[0] for p in (html / "_sources").rglob("*.*")}
    assert built == set(toc_docs(ROOT / "_toc.yml"))


def test_no_solution_reaches_the_site(html):
    assert not [p for p in html.rglob("*") if "solutions" in p.relative_to(html).parts]
    leaked = [p for p in html.rglob("*") if p.is_file() and PROBE.encode() in p.read_bytes()]
    assert not leaked, f"solution content published in {leaked}"


def test_no_inline_script_declares_a_constant_twice(html):
    # A repeated `const x = ...` is a SyntaxError in the browser (sphinx-thebe did this under Sphinx 7.4).
    for page in html.glob("*.html"):
        scripts = re.findall(r"<script>((?:const|let) .*?)</script>", page.read_text(), flags=re.DOTALL)
        repeated = [body for body, count in Counter(scripts).items() if count > 1]
        assert not repeated, f"{page.name} repeats {repeated}"
