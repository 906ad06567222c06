"""grader/engine/sources/cells.py: a damaged notebook is one line and exit 2, never a traceback."""

import json
import os
import subprocess
import sys

import pytest

from tests.support.kit import KIT_ROOT

DAMAGED = {
    "numbers": [1, 2],
    "a null line": ["def mnist_loss(a, b):\n", None],
    "null": None,
    "a number": 7,
}


@pytest.mark.parametrize("source", DAMAGED.values(), ids=DAMAGED.keys())
def test_a_cell_whose_source_is_not_text_is_one_line(source, tmp_path):
    notebook = tmp_path / "ch4.ipynb"
    notebook.write_text(json.dumps({"cells": [{"cell_type": "code", "source": source, "metadata": {}}]}))
    done = subprocess.run([sys.executable, "-m", "grader.cli", "grade", "--quick", "--source", str(notebook)],
                          cwd=KIT_ROOT, capture_output=True, text=True, timeout=120, env=os.environ)
    assert done.returncode == 2 and done.stderr.strip().splitlines() == [
        f"error: {notebook}: cell 1 is damaged (its source is not text): open and save the notebook again in Jupyter"
    ], done.stderr


def test_a_lone_surrogate_is_read_not_a_crash(tmp_path):
    notebook = tmp_path / "ch4.ipynb"
    code = "def mnist_loss(predictions, targets):\n    return '\ud800'\n"
    notebook.write_text(json.dumps({"cells": [{"cell_type": "code", "source": [code], "metadata": {}}]}))
    done = subprocess.run([sys.executable, "-m", "grader.cli", "grade", "mnist_loss", "--quick", "--source",
                           str(notebook)], cwd=KIT_ROOT, capture_output=True, text=True, timeout=300, env=os.environ)
    assert done.returncode == 1 and "Traceback" not in done.stdout + done.stderr, done.stderr[-2000:]
