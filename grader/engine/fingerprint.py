"""What a step's code is, as a short hash: its file and the learner's own modules it imports.

Two grades of the same step with the same fingerprint graded the same code, so the latest grade
keeps a full grade's training results through a later `--quick` one (grader/learner/latest.py).
The learner's modules are the other .py files (or packages) of the same folder that the step
file imports, followed through their own imports; installed libraries are not the learner's.
"""

import ast
import hashlib
from pathlib import Path

from grader.core.errors import KitError
from grader.core.files import STEP_FILE_BYTES, read_inside
from grader.engine.loading import parse


def fingerprint(folder: Path, step: str) -> str | None:
    """The hash of `<step>.py` in `folder` and the local modules it reaches; None without the file."""
    first = Path(folder) / f"{step}.py"
    if not first.is_file():
        return None
    h = hashlib.sha256()
    seen: set[Path] = set()
    todo = [first]
    while todo:
        file = todo.pop()
        if file in seen:
            continue
        seen.add(file)
        try:
            data = read_inside(file, Path(folder), STEP_FILE_BYTES)
        except KitError as refused:  # graded all the same: the judge says why in one line
            data = str(refused).encode()
        h.update(f"{file.relative_to(folder)}\0{len(data)}\0".encode() + data)
        todo.extend(local_imports(file, Path(folder)))
    return h.hexdigest()[:16]


def local_imports(file: Path, folder: Path) -> list[Path]:
    """The files of `folder` that `file` imports by name: a module, or every file of a package."""
    try:
        tree = parse(read_inside(file, folder, STEP_FILE_BYTES))
    except (SyntaxError, ValueError, KitError):
        return []
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.level == 1:  # from . import x / from .x import y
            names.update([node.module.split(".")[0]] if node.module else [a.name for a in node.names])
    found = []
    for name in sorted(names):
        if (folder / f"{name}.py").is_file():
            found.append(folder / f"{name}.py")
        elif (folder / name / "__init__.py").is_file():
            found.extend(sorted((folder / name).rglob("*.py")))
    return found
