"""README's step tables, generated from the manifest, the solutions, the checks and the calibration.

Each table sits between `<!-- generated: NAME -->` and `<!-- end generated: NAME -->` in
README.md; `fastgroup generate` rewrites what is between the markers and leaves the prose around
them alone, and `fastgroup generate --check` (run by the tests) fails when a table has drifted.
"""

import ast
import json
import re
from pathlib import Path

from grader.core.steps import BONUS_IDS, STEP_IDS, STEPS

README = "README.md"
CALIBRATION = Path(__file__).resolve().parents[1] / "engine" / "calibration.json"


def signature(node: ast.FunctionDef) -> str:
    """`name(a, b=1)` as the learner writes it."""
    args = node.args
    plain = [a.arg for a in args.args]
    defaults = [ast.unparse(d) for d in args.defaults]
    shown = plain[: len(plain) - len(defaults)] + [
        f"{name}={value}" for name, value in zip(plain[len(plain) - len(defaults):], defaults, strict=True)
    ]
    return f"`{node.name}({', '.join(shown)})`"


def what_you_write(solution: Path) -> str:
    """The functions and classes a step's solution defines, as README lists them."""
    parts = []
    for node in ast.parse(solution.read_text()).body:
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
            parts.append(signature(node))
        elif isinstance(node, ast.ClassDef):
            methods = [f"`{m.name}`" for m in node.body
                       if isinstance(m, ast.FunctionDef) and not m.name.startswith("_")]
            parts.append(f"`class {node.name}`" + (f" ({', '.join(methods)})" if methods else ""))
    return ", ".join(parts)


def points_text(value: float) -> str:
    return f"{value:g}"


def steps_table(root: Path) -> str:
    """Every step: its number, id, what the learner writes, its points (the checks')."""
    from grader.engine import BONUS_POINTS, CORE_POINTS, step_points

    rows = ["| # | step | you write | points |", "|---|---|---|---|"]
    for n, step in enumerate(STEPS, 1):
        name = f"{step.id} (bonus)" if step.bonus else step.id
        rows.append(f"| {n} | {name} | {what_you_write(root / 'solutions' / f'{step.id}.py')} | "
                    f"{points_text(step_points(step.id))} |")
    rows.append(f"| | **core total** ({len(STEP_IDS)} steps) | | **{points_text(CORE_POINTS)}** |")
    rows.append(f"| | **bonus total** ({len(BONUS_IDS)} steps, counted apart) | | {points_text(BONUS_POINTS)} |")
    return "\n".join(rows)


def thresholds_table(calibration: Path = CALIBRATION) -> str:
    """The chapter's training steps: the book's accuracy beside the kit's calibrated runs."""
    measured = json.loads(calibration.read_text())["embedded"]
    rows = ["| step | book | kit min | kit median | below the book (median) | threshold |",
            "|---|---|---|---|---|---|"]
    for step in STEPS:
        row = measured.get(step.id)
        if step.book is None or row is None:
            continue
        rows.append(f"| {step.id} | {step.book:.4f} | {row['min']:.4f} | {row['median']:.4f} | "
                    f"{step.book - row['median']:.4f} | {row['threshold']:.4f} |")
    return "\n".join(rows)


def bonus_thresholds_table(calibration: Path = CALIBRATION) -> str:
    """The bonus steps that train: the kit's calibrated runs on all ten digits (the book has none)."""
    measured = json.loads(calibration.read_text())["embedded"]
    rows = ["| step | kit min | kit median | threshold |", "|---|---|---|---|"]
    for step in BONUS_IDS:
        row = measured.get(step)
        if row is not None:
            rows.append(f"| {step} | {row['min']:.4f} | {row['median']:.4f} | {row['threshold']:.4f} |")
    return "\n".join(rows)


TABLES = ("steps", "thresholds", "bonus-thresholds")


def tables(root: Path) -> dict[str, str]:
    return {"steps": steps_table(root), "thresholds": thresholds_table(),
            "bonus-thresholds": bonus_thresholds_table()}


def block(name: str) -> re.Pattern:
    return re.compile(rf"(<!-- generated: {re.escape(name)} -->\n).*?(<!-- end generated: {re.escape(name)} -->)",
                      re.DOTALL)


def with_tables(text: str, root: Path) -> str:
    """README's text with every generated table written between its markers."""
    for name in TABLES:
        if not block(name).search(text):
            raise ValueError(f"README.md has no '<!-- generated: {name} -->' block: add the two marker lines")
    for name, table in tables(root).items():
        text = block(name).sub(lambda m, t=table: f"{m.group(1)}{t}\n{m.group(2)}", text)
    return text


def readme_files(root: Path) -> dict[Path, str]:
    """README.md with its tables as they must be (nothing where the kit has no README: an install)."""
    path = root / README
    if not path.is_file():
        return {}
    return {path: with_tables(path.read_text(), root)}


__all__ = ["readme_files", "tables", "what_you_write"]
