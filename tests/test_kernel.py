"""grader/kernel.py: `grader.check()` in a real Jupyter kernel grades the cells the kernel ran."""

import re

import nbformat
from nbclient import NotebookClient

from grader.engine.checks import step_points

CELLS = [
    "import torch",
    "def mnist_loss(predictions, targets):\n    predictions = predictions.sigmoid()\n"
    "    return torch.where(targets==1, 1-predictions, predictions).mean()",
    "def batch_accuracy(xb, yb):\n    preds = xb.sigmoid()\n    correct = (preds>0.5) == yb\n"
    "    return correct.float().mean()",
    "def linear1(xb): return xb@weights   # the bias is forgotten",
    "import grader\nresults = grader.check(['mnist_loss', 'batch_accuracy', 'linear1'], quick=True)\n"
    "print('SCORE', results.score, results.max_score)",
]


def run_in_kernel(cells: list[str], tmp_path) -> str:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    where = {"metadata": {"path": str(tmp_path)}}
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources=where).execute()
    return "\n".join(
        output.get("text", "") + str(output.get("data", {}).get("text/plain", ""))
        for cell in notebook.cells for output in cell.get("outputs", [])
    )


def test_check_grades_the_definitions_the_kernel_ran_with_the_same_points(tmp_path):
    shown = run_in_kernel(CELLS, tmp_path)
    expected = step_points("mnist_loss") + step_points("batch_accuracy")
    most = expected + step_points("linear1")
    assert f"SCORE {expected:.1f} {most:.1f}" in shown, shown[-3000:]
    table = " ".join(re.sub(r"\x1b\[[0-9;]*m|[│┃]", " ", shown).split())
    assert "fastgroup grade" in table and "mnist_loss 8/8" in table and "linear1 0/6" in table, table
    assert "Likely mistake: the bias is left out" in table
    assert "linear1: In [4]: def linear1(xb)" in table and "make_dataset: not found" in table  # what was graded
    assert "Next: step linear1 (Data set and linear model) in this kernel; `grader.hint(\"linear1\")`" in table


LEARNER_STYLE = [
    "import torch",
    "def init_params(size, std=1.0): return (torch.randn(size)*std).requires_grad_()",
    "w = init_params((28*28, 1))\nb = init_params(1)",  # the learner's own names for weights and bias
    "def linear1(xb): return xb@w + b",
    "def batch_accuracy(xb, yb): return ((xb.sigmoid() > 0.5) == yb).float().mean()",
    "trn_dl = [(torch.zeros(2, 784), torch.ones(2, 1))]",
    "def validate_epoch(model):\n    accs = [batch_accuracy(model(xb), yb) for xb, yb in trn_dl]\n"
    "    return round(torch.stack(accs).mean().item(), 4)",
    "import grader\nresults = grader.check(['linear1', 'validate_epoch'], quick=True)\n"
    "print('POINTS', results.step_points())",
    "grader.hint('validate_epoch')",
    "import subprocess, sys\nprint(subprocess.run([sys.executable, '-m', 'grader.cli', 'list'], capture_output=True,"
    " text=True).stdout)",
]


def test_a_kernel_with_its_own_names_and_a_hidden_bug_says_so_and_hints_in_python(tmp_path):
    shown = run_in_kernel(LEARNER_STYLE, tmp_path)
    table = " ".join(re.sub(r"\x1b\[[0-9;]*m|[│┃]", " ", shown).split())
    assert "NameError" not in table and "linear1: In [4]: def linear1(xb)" in table, table
    assert "'linear1': (0.0," not in table  # w and b stand for the kit's weights and bias
    assert "'validate_epoch': (0.0," in table and "ValidatingOnTrainingData: validate_epoch reads `trn_dl`" in table
    assert "no cell assigns" not in table and "Hint 1/" in table and "for validate_epoch" in table
    # this kernel keeps its own record: the exercises' steps are untouched, the kernel's in a line of its own
    assert "linear1 Data set and not started" in table
    assert "Also graded, apart from the exercises: this kernel " in table


def test_check_in_a_kernel_without_definitions_says_what_to_run_first(tmp_path):
    shown = run_in_kernel(["import grader\ntry:\n    grader.check()\nexcept Exception as err:\n    print('ERR', err)"],
                          tmp_path)
    assert "ERR no chapter definition in the cells this kernel ran" in shown
