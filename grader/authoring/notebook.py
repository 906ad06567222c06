"""solutions/ -> course/source/ch4/ch4.ipynb: the same assignment as an nbgrader notebook.

Per step: a markdown cell (the solution module's docstring), a solution cell (the module's
code with its `### BEGIN/END SOLUTION` markers, which `nbgrader generate_assignment` replaces
by `raise NotImplementedError()`), and a locked test cell that runs the step's registered
checks through grader.notebook.inline.check_step.

grade_ids are stable: the test cell of a step is graded under the step id itself (that is
what `fastgroup nbgrader import` maps back to the step); its solution cell is `<step>_code`.
Cell ids are fixed and the JSON is written with sorted keys, so the file only changes when
solutions/ or the checks change (`fastgroup generate --check` relies on that).
"""

import ast
import json
import re
from pathlib import Path

from grader.core.steps import BONUS_IDS, BY_ID, STEP_IDS

NOTEBOOK = Path("course/source/ch4/ch4.ipynb")
NOQA = re.compile(r"\s+# noqa\b.*$")
STEP_PREFIX = re.compile(r"^(Bonus step|Step) \d+ - ")

INTRO = """\
# Chapter 4, MNIST basics: the graded notebook

Write the chapter's pieces one step at a time: from telling 3s from 7s by pixel similarity
to SGD written by hand, an optimizer, a two-layer net, fastai's `Learner` and a ResNet-18.

- Replace every `raise NotImplementedError()` with your code; keep the names and signatures.
- Run the setup cell first, then each step's code cell and the test cell after it.
- A test cell runs the same checks as `fastgroup grade` and prints what it found; it earns its
  points only when every check of the step passes. Steps that train a model take a minute.
- The grader runs more checks than you see here (the same ones on other random inputs), so
  write code that works for any input, not just the examples.
- The data are the kit's embedded digits (no download): `path` holds the folders
  `train/3`, `train/7`, `valid/3`, `valid/7`, and `stacks` the four image stacks.
"""

SETUP = """\
# Setup (read-only): the kit's checks and the embedded digits.
import warnings

import torch
from torch import nn

from grader.engine import load_stacks, resolve_data
from grader.notebook.inline import check_step

# Known harmless noise, silenced by exact message (other warnings still show):
warnings.filterwarnings("ignore", message="`torch.jit.script` is deprecated", category=FutureWarning)  # fastai

path = resolve_data("embedded")  # the MNIST_SAMPLE folder layout, built once, offline
stacks = load_stacks(path)  # "train3", "train7", "valid3", "valid7": (N, 28, 28) floats in [0, 1]
"""

TEST = """\
# Tests for step {step} (read-only): the checks of `fastgroup grade {step}`.
from grader.notebook.inline import check_step

points = check_step("{step}", globals())
### BEGIN HIDDEN TESTS
points = check_step("{step}", globals(), seed=1, quick=True)  # other random inputs
### END HIDDEN TESTS
"""

OUTRO = """\
## Done

Save the notebook and hand it in the way your organiser asked (for example
`nbgrader submit ch4`). Your organiser grades it with the checks above, the hidden ones
included, and puts your points on the group's leaderboard.
"""


def notebook_files(root: Path) -> dict[Path, str]:
    """The generated notebook and its text."""
    steps = STEP_IDS + bonus_ids(root)
    return {root / NOTEBOOK: notebook_json(root, steps)}


def notebook_json(root: Path, steps: tuple[str, ...]) -> str:
    cells = [markdown("intro", INTRO), code("setup", SETUP, nbgrader("setup", locked=True))]
    for n, step in enumerate(steps, start=1):
        about, body = split_module(step, (root / "solutions" / f"{step}.py").read_text())
        names = [f"`{name}`" for name in defined_names(body)]
        names = " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
        kind = "Bonus step" if BY_ID[step].bonus else "Step"
        text = (
            f"## {kind} {n}: {BY_ID[step].title}\n\n{about}\n\n"
            f"Write {names} in the next cell, then run the test cell after it.\n"
        )
        if BY_ID[step].bonus:
            text += "\nA bonus step goes beyond the chapter; its points are counted apart from the chapter's.\n"
        cells.append(markdown(f"{step}_about", text))
        cells.append(code(f"{step}_code", body, nbgrader(f"{step}_code", solution=True)))
        test = TEST.format(step=step)
        cells.append(code(step, test, nbgrader(step, grade=True, locked=True, points=step_points(step))))
    cells.append(markdown("outro", OUTRO))
    notebook = {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def split_module(step: str, source: str) -> tuple[str, str]:
    """(the module docstring as markdown, the code after it without `# noqa` comments)."""
    tree = ast.parse(source)
    doc = ast.get_docstring(tree)
    if not doc:
        raise ValueError(f"solutions/{step}.py needs a module docstring: it is the notebook's instructions")
    lines = source.splitlines()[tree.body[0].end_lineno :]
    body = "\n".join(NOQA.sub("", line) for line in lines).strip("\n") + "\n"
    return tidy(doc), body


def tidy(doc: str) -> str:
    """The docstring without its "Step N - " prefix (the heading already says it)."""
    doc = STEP_PREFIX.sub("", doc.strip())
    return doc[:1].upper() + doc[1:]


def defined_names(body: str) -> list[str]:
    """Top-level functions and classes: what the learner writes."""
    return [n.name for n in ast.parse(body).body if isinstance(n, ast.FunctionDef | ast.ClassDef)]


def step_points(step: str) -> float:
    """The step's points: its checks' points (grader/engine/checks), written as an int when whole."""
    from grader.engine import step_points as checks_points

    total = checks_points(step)
    return int(total) if float(total).is_integer() else total


def bonus_ids(root: Path) -> tuple[str, ...]:
    """The bonus steps whose solution module exists under root."""
    return tuple(s for s in BONUS_IDS if (root / "solutions" / f"{s}.py").exists())


def nbgrader(grade_id: str, *, grade=False, solution=False, locked=False, points=None) -> dict:
    meta = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": 3,
        "solution": solution,
        "task": False,
    }
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def lines(text: str) -> list[str]:
    """Jupyter's on-disk form of a cell's source: lines, each but the last ending in a newline."""
    return text.rstrip("\n").splitlines(keepends=True)


def markdown(cell_id: str, text: str) -> dict:
    return {"cell_type": "markdown", "id": cell_id, "metadata": {}, "source": lines(text)}


def code(cell_id: str, text: str, metadata: dict) -> dict:
    return {
        "cell_type": "code",
        "execution_count": None,
        "id": cell_id,
        "metadata": metadata,
        "outputs": [],
        "source": lines(text),
    }
