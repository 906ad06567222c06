"""solutions/ -> exercises/: the learner's stubs, generated from the single source.

Every block between `### BEGIN SOLUTION` and `### END SOLUTION` becomes one line that raises
NotImplementedError with a message naming the step and the function; everything else
(imports, docstrings, signatures) is kept as written.
"""

import re
from pathlib import Path

from grader.home import KIT_ROOT
from grader.steps import STEP_IDS

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
HEADER = (
    "# Your exercise for step '{step}'. Replace each `raise NotImplementedError(...)` with\n"
    "# your code; keep the names and signatures. Generated from solutions/{step}.py.\n"
)
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
    try:
        from grader.notebook import notebook_files
    except ImportError:  # the notebook track is optional
        return files
    files.update(notebook_files(root))
    return files


def bonus_ids(root: Path) -> tuple[str, ...]:
    from grader.steps import BONUS_IDS

    return tuple(s for s in BONUS_IDS if (root / "solutions" / f"{s}.py").exists())


def generate(check: bool = False, root: Path = KIT_ROOT) -> list[Path]:
    """Write the generated files (or, with check, only compare). Returns those that differ."""
    differing = []
    for path, text in expected_files(root).items():
        if not path.exists() or path.read_text() != text:
            differing.append(path)
            if not check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
    return differing
