"""grader/engine/sources/light.py: a notebook's step module imports all of fastai only where its
code needs it; where it does not, it gets the very objects fastai's star import would give."""

import subprocess
import sys

import pytest

from grader.engine import sandbox_first
from grader.engine.sources.cells import read_cells
from grader.engine.sources.extract import extract, kit_bound
from grader.engine.sources.light import FROM_TORCH_CORE, LIGHT, first_imports, lighter
from tests.support.notebooks import BOOK_FLOW, HIDDEN_BUG, OWN_NAMES, write_notebook

STAR = "from fastai.vision.all import *"


def test_each_plain_import_gives_the_object_fastais_star_gives():
    """Run apart: importing fastai here would hide a plain import that needs it."""
    code = "\n".join([
        "star = {}", f"exec({STAR!r}, star)",
        f"for name, line in {({**LIGHT, **FROM_TORCH_CORE})!r}.items():",
        "    mine = {}", "    exec(line, mine)",
        "    assert mine[name] is star[name], name",
        "print('same')",
    ])
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert run.stdout.strip() == "same", run.stderr[-2000:]


def lightened(code: str, imports=(STAR,), own_globals=False):
    return lighter(list(imports), code, kit_bound(), runs_own_globals=own_globals)


def test_torch_alone_needs_no_fastai_and_fastais_tensor_only_its_torch_core():
    # torch, nn and F come with every step module (extract.py): nothing to add
    assert lightened("def mnist_loss(p, t):\n    return torch.where(t == 1, 1 - p, p).mean()") == []
    assert lightened("def f(x):\n    return tensor(x) * np.pi") == ["import numpy as np",
                                                                   "from fastai.torch_core import tensor"]
    assert first_imports("try:\n    from fastai.torch_core import tensor\nexcept Exception:\n    pass") == (
        "fastai.torch_core",)


@pytest.mark.parametrize("code, imports, own_globals", [
    ("def f(x):\n    return Learner(x)", (STAR,), False),  # any other fastai name
    ("def f(p):\n    return p.ls()", (STAR,), False),  # a method fastcore adds to paths
    ("def f():\n    return globals()['tensor']", (STAR,), False),  # read by name
    ("def f(x):\n    return tensor(x)", ("from torch import tensor", STAR), False),  # the star rebinds it
    ("def f(x):\n    return x + mean3", (STAR,), True),  # the notebook's own top-level code runs
])
def test_anything_that_may_need_fastai_keeps_the_star(code, imports, own_globals):
    assert lightened(code, imports, own_globals) == list(imports)


def test_the_books_globals_the_kit_binds_are_not_fastais():
    code = "def _book_linear1(xb): return xb@weights + bias\n" \
           "def linear1(xb, weights, bias):\n    _bind(weights=weights, bias=bias)\n    return _book_linear1(xb)"
    assert lightened(code) == []


def test_a_book_style_notebooks_main_lane_needs_only_fastais_tensor(tmp_path):
    notebook = write_notebook(tmp_path / "ch4.ipynb", BOOK_FLOW)
    found = extract(read_cells(notebook), notebook.name)
    assert first_imports(found.files["mnist_loss.py"]) == ()
    assert first_imports(found.files["linear1.py"]) == ("fastai.torch_core",)  # its helper calls tensor
    assert first_imports(found.files["resnet18.py"]) == ("fastai.vision.all",)
    assert sandbox_first(notebook, quick=True) == ("fastai.torch_core",)
    assert sandbox_first(notebook) == ("fastai.vision.all",)  # the learner step: fastai's Learner
    assert sandbox_first(notebook, ["mnist_loss", "calc_grad"]) == ()
    assert sandbox_first(write_notebook(tmp_path / "own.ipynb", OWN_NAMES)) == ("fastai.vision.all",)  # own globals
    assert sandbox_first(write_notebook(tmp_path / "bug.ipynb", HIDDEN_BUG), quick=True) == ()
    assert sandbox_first(tmp_path) == ()  # step files: their own imports, as written
