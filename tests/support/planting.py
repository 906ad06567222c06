"""Helpers for the grader tests: copies of solutions/ with one piece changed, graded quietly."""

import shutil
import textwrap
from pathlib import Path

import pytest

from grader.core.home import KIT_ROOT
from grader.learner.grade import grade


def copy_solutions(tmp_path: Path) -> Path:
    folder = tmp_path / "src"
    shutil.copytree(KIT_ROOT / "solutions", folder, ignore=shutil.ignore_patterns("__pycache__"))
    return folder


def plant(tmp_path: Path, step: str, old: str, new: str) -> Path:
    """A copy of solutions/ where `old` (which must be there) is replaced by `new` in one step."""
    return plant_into(copy_solutions(tmp_path), step, old, new)


def plant_many(tmp_path: Path, changes) -> Path:
    """A copy of solutions/ with several (step, old, new) changes, at most one per step: one grade
    of that folder grades them all."""
    folder = copy_solutions(tmp_path)
    steps = [step for step, _, _ in changes]
    assert len(set(steps)) == len(steps), f"two changes to one step: {steps}"
    for step, old, new in changes:
        plant_into(folder, step, old, new)
    return folder


def plant_into(folder: Path, step: str, old: str, new: str) -> Path:
    """Replace `old` (which must be there) by `new` in `folder`'s step module."""
    file = folder / f"{step}.py"
    text = file.read_text()
    old, new = textwrap.dedent(old).strip("\n"), textwrap.dedent(new).strip("\n")
    indent = next(
        line[: len(line) - len(line.lstrip())] for line in text.splitlines() if old.splitlines()[0].strip() in line
    )
    old = textwrap.indent(old, indent)
    new = textwrap.indent(new, indent)
    assert old in text, f"{old!r} not found in solutions/{step}.py"
    file.write_text(text.replace(old, new))
    return folder


def replace_body(tmp_path: Path, step: str, body: str) -> Path:
    """A copy of solutions/ whose `step` module is replaced whole by `body`."""
    folder = copy_solutions(tmp_path)
    (folder / f"{step}.py").write_text(textwrap.dedent(body))
    return folder


def grade_step(folder: Path, step: str, quick: bool = False, seed: int = 0, service=None):
    """Grade one step of `folder` (with a warm `service`, or judges of its own); returns (results,
    the step's tests)."""
    results = grade(steps=[step], source=folder, quick=quick, seed=seed, show=False, service=service)
    return results, [t for t in results.tests if t.tags == [step]]


@pytest.fixture(scope="module")
def warm_service():
    """One grading service for a module of benign planted code (mistakes, alternatives): its
    judges start once, not at every grade, as in watch mode. Hostile code never uses it: the
    security tests grade with fresh judges, as the board does."""
    from grader.engine.service import Service
    from grader.engine.settings import settings

    with Service(settings(), fastai=False) as service:  # a fastai step's checks run in the main lane
        yield service
