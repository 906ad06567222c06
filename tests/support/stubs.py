"""Fresh stubs for tests, generated from solutions/ into a temporary folder.

The kit's tests never read exercises/: that folder is the learner's, and may hold their work.
"""

import inspect
from pathlib import Path

import pytest

from grader.authoring.exercises import stub_source
from grader.core.steps import ALL_IDS
from tests.support.kit import SOLUTIONS


def write_stubs(folder: Path) -> Path:
    """Every step's stub, as `fastgroup generate` writes it, into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for step in ALL_IDS:
        (folder / f"{step}.py").write_text(stub_source(step, (SOLUTIONS / f"{step}.py").read_text()))
    return folder


@pytest.fixture(scope="session")
def fresh_stubs(tmp_path_factory) -> Path:
    return write_stubs(tmp_path_factory.mktemp("stubs"))


def public_names(module) -> dict:
    """The functions and classes a module defines itself."""
    return {
        name: obj
        for name, obj in vars(module).items()
        if not name.startswith("_")
        and (inspect.isfunction(obj) or inspect.isclass(obj))
        and obj.__module__ == module.__name__
    }
