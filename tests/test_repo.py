"""What a newcomer relies on: the README commands, CI running the tests, pinned installs, nbgrader paths."""

import os
import re
import subprocess
import sys
from pathlib import Path

from traitlets.config.loader import PyFileConfigLoader

ROOT = Path(__file__).resolve().parents[1]


def makefile_targets():
    return set(re.findall(r"^([a-z][\w-]*):", (ROOT / "Makefile").read_text(), flags=re.MULTILINE))


def test_readme_setup_is_exactly_make_book_and_make_test():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Set up and run", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, flags=re.DOTALL)
    commands = [line.split("#")[0].strip() for block in blocks for line in block.splitlines() if line.strip()]
    assert commands == ["make book", "make test"]


def test_every_make_target_the_readme_mentions_exists():
    readme = (ROOT / "README.md").read_text()
    pairs = re.findall(r"`make (\w+)`|^make (\w+)", readme, flags=re.MULTILINE)
    mentioned = {name for pair in pairs for name in pair if name}
    assert mentioned and mentioned <= makefile_targets()


def test_ci_entry_point_is_an_executable_strict_bash_script_running_make_test():
    script = ROOT / ".ci" / "run"
    assert os.access(script, os.X_OK)
    text = script.read_text()
    assert text.startswith("#!/usr/bin/env bash\n") and "set -euo pipefail" in text
    assert re.search(r"^make test$", text, flags=re.MULTILINE)


def test_requirements_are_pinned_and_torch_free():
    lines = [line.split("#")[0].strip() for line in (ROOT / "requirements.txt").read_text().splitlines()]
    requirements = [line for line in lines if line and line not in ("-e .", "-e src/descent_grading")]
    unpinned = [line for line in requirements if not re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==\S+", line)]
    assert requirements and not unpinned
    assert not [line for line in requirements if re.match(r"torch\b", line)]


def test_nbgrader_uses_solutions_and_exercises_in_the_course_root(tmp_path, monkeypatch):
    from nbgrader.coursedir import CourseDirectory

    monkeypatch.chdir(tmp_path)  # the root must not depend on where nbgrader starts
    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    course = CourseDirectory(config=config)
    assert Path(course.root) == ROOT
    assert Path(course.format_path(course.source_directory, ".", "01_x")) == ROOT / "solutions" / "01_x"
    assert Path(course.format_path(course.release_directory, ".", "01_x")) == ROOT / "exercises" / "01_x"
    assert config.ExecutePreprocessor.timeout > 0


def test_python_code_is_lint_clean():
    """ruff with the rules in pyproject.toml: unused imports, undefined names, line length, common bugs; in the
    notebooks too (exercises/ is generated from solutions/, whose hidden tests it strips)."""
    ruff = Path(sys.executable).with_name("ruff")
    sources = ["src", "tests", "benchmarks", "chapters", "solutions"]
    result = subprocess.run([ruff, "check", "--output-format", "concise", *sources],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
