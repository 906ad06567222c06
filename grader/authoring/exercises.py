"""solutions/ -> exercises/: the learner's stubs, generated from the single source.

Every block between `### BEGIN SOLUTION` and `### END SOLUTION` becomes one line that raises
NotImplementedError with a message naming the step and the function; everything else
(imports, docstrings, signatures) is kept as written.

A learner's work is never overwritten by accident: `generate` skips an exercise that differs
from both its new stub and its committed version (the learner edited it) unless forced, and
then keeps a backup; `reset_step` gives one fresh stub, with a backup too.
"""

import contextlib
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from grader.authoring.classroom import classroom_files
from grader.authoring.notebook import bonus_ids, notebook_files
from grader.authoring.readme import readme_files
from grader.core.home import KIT_ROOT
from grader.core.steps import STEP_IDS
from grader.engine import shipped_files

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
HEADER = (
    "# Your exercise for step '{step}'. Replace each `raise NotImplementedError(...)` with\n"
    "# your code; keep the names and signatures. Stuck? `fastgroup hint {step}`.\n"
)
BACKUPS = ".backups"  # under exercises/: copies of edited files that were replaced
DEF_RE = re.compile(r"^(\s*)(?:def|class)\s+(\w+)")


def stub_source(step: str, source: str) -> str:
    """The exercise text for one solution module."""
    out, inside = [], False
    lines = source.splitlines()
    for n, line in enumerate(lines):
        marker = line.strip()
        if marker == BEGIN:
            if inside:
                raise ValueError(f"solutions/{step}.py:{n + 1}: nested {BEGIN}")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            name = enclosing_name(lines, n)
            out.append(
                f'{indent}raise NotImplementedError("{step}: write {name} '
                f'(fastgroup hint {step} helps)")'
            )
        elif marker == END:
            if not inside:
                raise ValueError(f"solutions/{step}.py:{n + 1}: {END} without {BEGIN}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"solutions/{step}.py: {BEGIN} never closed")
    return HEADER.format(step=step) + "\n".join(out) + "\n"


def enclosing_name(lines: list[str], n: int) -> str:
    """'func' or 'Class.method' for the definition that holds line n."""
    indent = len(lines[n]) - len(lines[n].lstrip())
    names = []
    for line in reversed(lines[:n]):
        m = DEF_RE.match(line)
        if m and len(m.group(1)) < indent:
            names.append(m.group(2))
            indent = len(m.group(1))
            if indent == 0:
                break
    return ".".join(reversed(names))


def expected_files(root: Path = KIT_ROOT) -> dict[Path, str]:
    """Every generated file and the text it must hold."""
    files = {}
    for step in STEP_IDS + bonus_ids(root):
        src = root / "solutions" / f"{step}.py"
        files[root / "exercises" / f"{step}.py"] = stub_source(step, src.read_text())
    files.update(notebook_files(root))
    files.update(classroom_files(root))
    files.update(readme_files(root))
    files.update(shipped_files(root))  # the checks' list, so a first grade needs no judge for it
    return files


@dataclass
class Generated:
    """What `generate` did: files written, edited exercises left alone, backups kept."""

    written: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)
    backups: list[Path] = field(default_factory=list)


def committed_text(path: Path) -> str | None:
    """The file as committed in git (HEAD), or None outside a checkout or for an untracked file."""
    try:
        run = subprocess.run(
            ["git", "show", f"HEAD:./{path.name}"], cwd=path.parent, capture_output=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return run.stdout.decode("utf-8", "replace") if run.returncode == 0 else None


def known_stubs(step: str, root: Path) -> set[str]:
    """The stub texts `generate` may have written for a step: from the current solution and
    from the committed one (a stub gone stale because the solution changed since)."""
    solution = root / "solutions" / f"{step}.py"
    sources = {solution.read_text(), committed_text(solution)} - {None}
    stubs = set()
    for source in sources:
        with contextlib.suppress(ValueError):  # a committed version with broken markers: no stub
            stubs.add(stub_source(step, source))
    return stubs


def without_header(text: str) -> str:
    """A stub without its leading comment lines, so that a new header wording is not an edit."""
    lines = text.splitlines(keepends=True)
    while lines and lines[0].startswith("#"):
        lines.pop(0)
    return "".join(lines)


def is_learners_edit(path: Path, root: Path) -> bool:
    """An exercise that is not one of the step's stubs holds the learner's work."""
    if not path.exists():
        return False
    return without_header(path.read_text()) not in {without_header(s) for s in known_stubs(path.stem, root)}


def backup(path: Path) -> Path:
    """Copy an exercise into exercises/.backups/ with a timestamp; the copy's path."""
    folder = path.parent / BACKUPS
    folder.mkdir(exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():  # `git add .` in a Classroom repository must not commit the backups
        ignore.write_text("# fastgroup's backups of your edited exercises: kept out of git\n*\n")
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    target = folder / f"{path.stem}.{stamp}{path.suffix}"
    shutil.copy2(path, target)
    return target


def generate(root: Path = KIT_ROOT, force: bool = False) -> Generated:
    """Write the generated files. An exercise the learner edited is kept unless `force`,
    and then backed up first."""
    done = Generated()
    exercises = root / "exercises"
    for path, text in expected_files(root).items():
        if path.exists() and path.read_text() == text:
            continue
        if path.parent == exercises and is_learners_edit(path, root):
            if not force:
                done.kept.append(path)
                continue
            done.backups.append(backup(path))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        done.written.append(path)
    return done


def out_of_sync(root: Path = KIT_ROOT) -> list[Path]:
    """Maintainers' check: generated files that are missing or stale (still a stub, but not the
    stub that solutions/ gives now). A learner's edited exercise is theirs, not stale: the
    learner's work can never make this check fail."""
    exercises = root / "exercises"
    return [
        path
        for path, text in expected_files(root).items()
        if not (path.exists() and path.read_text() == text)
        and not (path.parent == exercises and is_learners_edit(path, root))
    ]


def reset_step(step: str, exercises: Path, root: Path = KIT_ROOT) -> tuple[Path, Path | None]:
    """A fresh stub of one step in `exercises`; the old file is backed up when it held anything else."""
    path = exercises / f"{step}.py"
    text = stub_source(step, (root / "solutions" / f"{step}.py").read_text())
    saved = backup(path) if path.exists() and path.read_text() != text else None
    path.write_text(text)
    return path, saved
