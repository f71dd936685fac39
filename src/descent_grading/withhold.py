"""The assignment's copy of ``descent`` for the student's process: the functions the students must write are
withheld, everything else works.

Which names an assignment withholds lives next to it, in its source notebook's metadata::

    "metadata": {"descent": {"withheld": ["descent.losses.mse", "descent.losses.mae"]}}

``build_view`` copies the installed ``descent`` package into a folder and replaces each withheld function's body
(or value) by ``raise WithheldError(...)``, so neither its code nor a way to reload it is in the sandbox. Calling it
raises ``WithheldError: descent.losses.mse is not available while 01_loss_functions is graded: write your own``.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import nbformat

ERROR = "WithheldError"
PRELUDE = f"""
class {ERROR}(RuntimeError):
    \"\"\"A function of descent the assignment asks you to write yourself.\"\"\"


def _withheld(name, assignment):
    def withheld(*args, **kwargs):
        raise {ERROR}(f"{{name}} is not available while {{assignment}} is graded: write your own")
    withheld.__name__ = name.rsplit(".", 1)[-1]
    return withheld
"""


def withheld_names(notebook: nbformat.NotebookNode) -> list[str]:
    """The dotted names a source notebook withholds (ValueError if its metadata is malformed)."""
    names = notebook.metadata.get("descent", {}).get("withheld", [])
    if not isinstance(names, list) or not all(isinstance(n, str) and n.startswith("descent.") for n in names):
        raise ValueError(f"metadata.descent.withheld must be a list of names such as 'descent.losses.mse', got "
                         f"{names!r}")
    return names


def _stub(tree: ast.Module, function: str, dotted: str, assignment: str) -> ast.Module:
    """The module with ``function`` (a def or an assignment at its top level) replaced by a raising stub."""
    stub = ast.parse(f"{function} = _withheld({dotted!r}, {assignment!r})").body[0]
    found = False
    for index, node in enumerate(tree.body):
        defines = (isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node.name == function) \
            or (isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == function
                                                     for t in node.targets))
        if defines:
            tree.body[index] = ast.copy_location(stub, node)
            found = True
    if not found:
        raise ValueError(f"{dotted} is withheld, but its module defines no '{function}' at its top level")
    return tree


def build_view(package: Path, names: list[str], assignment: str, folder: Path) -> Path:
    """A folder holding ``descent/``: a copy of ``package`` with ``names`` withheld. Returns ``folder``."""
    target = folder / "descent"
    shutil.copytree(package, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    by_module: dict[Path, list[tuple[str, str]]] = {}
    for dotted in names:
        parts = dotted.split(".")[1:]
        for split in range(len(parts) - 1, -1, -1):  # the longest module path that exists
            module = target.joinpath(*parts[:split])
            path = module / "__init__.py" if module.is_dir() else module.with_suffix(".py")
            if path.is_file():
                by_module.setdefault(path, []).append((".".join(parts[split:]), dotted))
                break
        else:
            raise ValueError(f"{dotted} is withheld, but descent has no module for it")
    for path, functions in by_module.items():
        tree = ast.parse(path.read_text())
        for function, dotted in functions:
            if "." in function:
                raise ValueError(f"{dotted}: only top-level functions and values of a module can be withheld")
            tree = _stub(tree, function, dotted, assignment)
        future = [node for node in tree.body if isinstance(node, ast.ImportFrom) and node.module == "__future__"]
        docstring = tree.body[:1] if tree.body and isinstance(tree.body[0], ast.Expr) else []
        rest = [node for node in tree.body if node not in future and node not in docstring]
        tree.body = docstring + future + ast.parse(PRELUDE).body + rest
        path.write_text(ast.unparse(ast.fix_missing_locations(tree)) + "\n")
    return folder
