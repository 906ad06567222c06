"""grader/engine/sources: a learner's own notebook or script, graded as written, never run."""

import json
import shutil
import subprocess
import time

import pytest

from grader.core.results import Results
from grader.core.steps import STEP_IDS
from grader.engine.checks import step_points
from grader.engine.sources.cells import read_cells
from grader.engine.sources.extract import extract
from tests.support.kit import KIT_ROOT, SOLUTIONS
from tests.support.notebooks import (
    BOOK_FLOW,
    HIDDEN_BUG,
    LINEAR,
    NONLINEAR,
    OPTIMIZER,
    OWN_DATA,
    OWN_LOADERS,
    OWN_NAMES,
    notebook_json,
    write_notebook,
    write_script,
)

QUICK_STEPS = [s for s in STEP_IDS if s not in ("learner", "resnet18")]


def grade_file(path, *args) -> tuple[subprocess.CompletedProcess, Results | None]:
    out = path.with_suffix(".results.json")
    run = subprocess.run(["fastgroup", "grade", "--source", str(path), "--json", str(out), *args],
                         cwd=KIT_ROOT, capture_output=True, text=True, timeout=900)
    return run, Results.model_validate_json(out.read_text()) if out.exists() else None


def test_the_books_flow_is_found_step_by_step_with_its_cells(tmp_path):
    found = extract(read_cells(write_notebook(tmp_path / "ch4.ipynb", BOOK_FLOW)), "ch4.ipynb")
    assert set(found.used) == set(STEP_IDS)
    assert found.used["mnist_loss"] == [f"mnist_loss: In [{BOOK_FLOW.index(LINEAR[6]) + 1}]: "
                                        "def mnist_loss(predictions, targets):"]  # the second one, with the sigmoid
    assert found.used["train_epoch"][0].endswith("def train_epoch(model, lr, params):")  # not train_model's
    assert "simple_net = nn.Sequential(" in found.used["simple_net"][1]
    assert "cnn_learner" in found.used["resnet18"][0] and "Learner(dls" in found.used["learner"][0]
    assert set(found.absent) == {"softmax", "multiclass_linear", "multiclass_net", "my_learner"}


def test_a_script_export_finds_what_the_notebook_finds(tmp_path):
    notebook = extract(read_cells(write_notebook(tmp_path / "ch4.ipynb", BOOK_FLOW)), "x")
    script = extract(read_cells(write_script(tmp_path / "ch4.py", BOOK_FLOW)), "x")
    assert set(script.used) == set(notebook.used)
    assert script.files.keys() == notebook.files.keys()


def test_the_books_notebook_scores_full_marks_without_running_its_top_level_code(tmp_path):
    marker = tmp_path / "ran.txt"
    cells = [*BOOK_FLOW, f"open({str(marker)!r}, 'w').write('the notebook ran')\nraise SystemExit('ran')"]
    started = time.monotonic()
    run, results = grade_file(write_notebook(tmp_path / "ch4.ipynb", cells), "--quick", *QUICK_STEPS)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert results.score == sum(step_points(s) - trains_points(s) for s in QUICK_STEPS)
    assert not marker.exists()  # nor did untar_data download anything: there is no network here
    assert time.monotonic() - started < 300  # seconds, not the book's 20-epoch loops
    assert "From " in run.stdout and "In [7]: def is_3(x)" in run.stdout


def trains_points(step: str) -> float:
    from grader.engine.checks import REGISTRY

    return sum(c.points for c in REGISTRY[step] if c.trains)


def test_a_learners_own_style_renamed_helpers_and_arithmetic_for_torch_where(tmp_path):
    cells = [
        "import torch\nfrom torch import nn",
        "def squash(v):\n    return 1 / (1 + torch.exp(-v))",
        "def mnist_loss(preds, targs):\n    s = squash(preds)\n    return (targs * (1 - s) + (1 - targs) * s).mean()",
        "def batch_accuracy(xb, yb):\n    return ((xb > 0).float() == yb).float().mean()",
        "def init_params(size, std=1.0):\n    w = torch.randn(size) * std\n    return w.requires_grad_()",
    ]
    run, results = grade_file(write_notebook(tmp_path / "mine.ipynb", cells), "--quick",
                              "mnist_loss", "batch_accuracy", "init_params")
    assert results.score == step_points("mnist_loss") + step_points("batch_accuracy") + step_points("init_params"), \
        run.stdout[-3000:]


def test_three_mistakes_cost_their_own_steps_only(tmp_path):
    wrong = [c.replace("    predictions = predictions.sigmoid()\n", "") if c == LINEAR[6] else c for c in BOOK_FLOW]
    wrong = [c.replace("            p.grad.zero_()", "            pass") if c == LINEAR[9] else c for c in wrong]
    wrong = [c.replace("nn.ReLU()", "F.relu") if c == NONLINEAR[2] else c for c in wrong]
    run, results = grade_file(write_notebook(tmp_path / "mistakes.ipynb", wrong), "--quick", *QUICK_STEPS)
    points = results.step_points()
    lost = {s for s in QUICK_STEPS if points[s][0] < points[s][1]}
    assert lost == {"mnist_loss", "train_epoch", "simple_net"}, run.stdout[-3000:]


def test_a_cell_that_does_not_parse_costs_only_the_steps_defined_in_it(tmp_path):
    broken = "def mnist_loss(predictions, targets)\n    return predictions.mean()"  # the colon is missing
    cells = [c for c in BOOK_FLOW if "def mnist_loss" not in c] + [broken]
    found = extract(read_cells(write_notebook(tmp_path / "broken.ipynb", cells)), "broken.ipynb")
    assert found.absent["mnist_loss"].startswith(f"In [{len(cells)}] does not parse (expected ':'")
    assert {"init_params", "linear1", "calc_grad", "batch_accuracy"} <= set(found.used)


def test_a_learners_own_globals_are_bound_by_their_part_or_run_on_the_kits_data(tmp_path):
    found = extract(read_cells(write_notebook(tmp_path / "own.ipynb", OWN_NAMES)), "own.ipynb")
    assert "_bind(weights=weights, bias=bias, b=bias, w=weights)" in found.files["linear1.py"]  # the kit's values
    assert found.used["linear1"][0].endswith("(b as the book's bias, w as the book's weights: the kit's)")
    sliced = found.used["pixel_similarity"][-1]
    assert sliced.startswith("path, threes, sevens, stacked_threes, stacked_sevens, ideal_three, ideal_seven: "
                             "your own globals (In [3], In [4], In [5])"), sliced
    assert "show_image" not in found.files["pixel_similarity.py"]  # a plot is never part of a slice
    # from fastbook import *, fastbook absent: all of fastai where the code needs it (its own
    # globals run on fastai's names); linear1 reads nothing of fastai's (sources/light.py)
    assert "from fastai.vision.all import *" in found.files["pixel_similarity.py"]
    assert "fastai" not in found.files["linear1.py"].split("_SUPPLIED")[0].split("exec(compile")[1][-400:]
    colab = [OWN_DATA[1], OWN_DATA[2].replace("untar_data(URLs.MNIST_SAMPLE)", "Path('/content/data/mnist_sample')"),
             *OWN_NAMES[3:]]
    found = extract(read_cells(write_notebook(tmp_path / "colab.ipynb", colab)), "colab.ipynb")
    assert "    path = _kit_data()" in found.files["pixel_similarity.py"]  # the learner's own copy: the kit's data


def test_a_global_from_a_cell_that_trains_is_one_line_naming_its_cell(tmp_path):
    cells = [*OWN_DATA, "def train_model(m, epochs):\n    for _ in range(epochs):\n        m.fit(1)",
             "ideal_three = train_model(stacked_threes, 3)\nideal_seven = stacked_sevens.mean(0)",
             "def is_3(x): return (x - ideal_three).abs().mean((-1, -2)) < (x - ideal_seven).abs().mean((-1, -2))",
             "for i in range(3):\n    wts = torch.randn(784, 1)", "def linear1(xb): return xb @ wts + bias"]
    found = extract(read_cells(write_notebook(tmp_path / "cut.ipynb", cells)), "cut.ipynb")
    assert ("ideal_three: `ideal_three` comes from a cell that trains (In [6]: `ideal_three = train_model("
            "stacked_threes, 3)`), which the kit never runs") in found.used["pixel_similarity"]
    assert "train_model(stacked_threes" not in found.files["pixel_similarity.py"].split("_SUPPLIED =")[1]
    assert "wts=weights" in found.files["linear1.py"]  # its part is the book's weights: the kit's value, not the loop's
    assert "ideal_seven = stacked_sevens.mean(0)" in found.files["pixel_similarity.py"]


def test_a_slice_is_the_last_plain_assignment_and_what_it_needs_in_order():
    from grader.engine.sources.cells import Cell
    from grader.engine.sources.extract import scan
    from grader.engine.sources.own_globals import backward_slice

    cells = ["scale = print('a plot')\nscale = 2.0\nunused = 1", "v = torch.ones(3) / scale\nv = v.float()\n"
             "scale += 1.0", "w = v * scale"]
    found = scan([Cell(n, text, True) for n, text in enumerate(cells, 1)])
    sliced = backward_slice({"w"}, found.statements, set(), set(), {})
    assert [s.text for s in sliced.statements] == ["scale = 2.0", "v = torch.ones(3) / scale", "v = v.float()",
                                                   "scale += 1.0", "w = v * scale"]
    assert not sliced.missing


def test_imports_as_written_and_a_signature_that_cannot_be_matched(tmp_path):
    cells = ["import fastbook\nfastbook.setup_book()\nfrom fastai2.vision.all import *",
             "def train_epoch(a, b, c, d):\n    pass", "import fastai2.vision.all as va",
             "def mnist_loss(predictions, targets):\n    return L(predictions)"]  # L: a fastai name
    found = extract(read_cells(write_notebook(tmp_path / "sig.ipynb", cells)), "sig.ipynb")
    module = found.files["train_epoch.py"]
    assert "fastbook = _fastbook" in module and "from fastai.vision.all import *" in found.files["mnist_loss.py"]
    assert "from fastai.vision.all import *" not in module  # the kit's stand-in reads nothing of fastai's
    assert "import fastai.vision.all as va" in module
    assert "from fastai2" not in module and "import fastai2" not in module
    assert found.used["train_epoch"] == ["train_epoch: In [2]: def train_epoch(a, b, c, d): (its signature is not "
                                         "the kit's: see the check)"]
    assert ("train_epoch(a, b, c, d) (In [2]) takes other arguments than the kit's train_epoch(model, dl, lr, params, "
            "loss_func) or the book's train_epoch(model, lr, params)") in module


def test_own_names_imports_and_argument_orders_get_full_marks(tmp_path):
    run, results = grade_file(write_notebook(tmp_path / "own.ipynb", OWN_NAMES), "--quick", "pixel_similarity",
                              "init_params")
    assert results.score == step_points("pixel_similarity") - trains_points("pixel_similarity") + step_points(
        "init_params"), run.stdout[-3000:]
    run, results = grade_file(write_notebook(tmp_path / "loaders.ipynb", OWN_LOADERS), "--quick", "batch_accuracy",
                              "train_epoch", "validate_epoch")
    expected = sum(step_points(s) - trains_points(s) for s in ("batch_accuracy", "train_epoch", "validate_epoch"))
    assert results.score == expected, run.stdout[-3000:]
    assert "def train_epoch(train_dl, model, optimizer): (its parameters by their names" in run.stdout


def test_a_bug_behind_a_renamed_global_is_named_on_its_own_step(tmp_path):
    cells = [*HIDDEN_BUG, "def is_3(x): return (x - mean_3).abs().mean((-1, -2)) < (x - mean7).abs().mean((-1, -2))",
             "def train_model(m, epochs):\n    m.fit(epochs)", "mean_3 = train_model(None, 3)"]
    run, results = grade_file(write_notebook(tmp_path / "bug.ipynb", cells), "--quick", "batch_accuracy",
                              "validate_epoch", "pixel_similarity")
    points = results.step_points()
    assert points["batch_accuracy"][0] == points["batch_accuracy"][1], run.stdout[-3000:]
    failed = {t.tags[0]: t.output for t in results.tests if t.status == "failed"}
    assert set(failed) == {"validate_epoch", "pixel_similarity"}, run.stdout[-3000:]
    assert "ValidatingOnTrainingData: validate_epoch reads `trn_dl`, a training loader (In [3]:" in failed[
        "validate_epoch"]
    assert "for xb, yb in trn_dl]" in failed["validate_epoch"]  # the line, quoted
    assert "NameError" not in failed["pixel_similarity"].replace("NotResolved", "")
    assert ("`mean_3` comes from a cell that trains (In [7]: `mean_3 = train_model(None, 3)`), which the kit never "
            "runs; for pixel_similarity the kit supplies the book's mean3, mean7") in failed["pixel_similarity"]


def test_a_learners_own_assignments_run_in_the_sandbox_never_on_the_host(tmp_path):
    from grader.core import sandbox

    if sandbox.isolation() != "bubblewrap":
        pytest.skip("the process-group fallback shares the host's files")
    marker = tmp_path / "ran.txt"
    cells = ["import torch", f"offset = open({str(marker)!r}, 'w').write('ran') * 0.0",
             "def linear1(xb): return xb @ weights + bias + offset"]
    run, results = grade_file(write_notebook(tmp_path / "writes.ipynb", cells), "--quick", "linear1")
    assert not marker.exists()
    failed = [t.output for t in results.tests if t.status == "failed" and "linear1" in t.name]
    assert failed and "`offset` (In [2]: `offset = open(" in failed[-1] and "raised" in failed[-1], run.stdout[-3000:]


def test_book_signatures_in_exercises_are_graded_like_the_kits(tmp_path):
    folder = tmp_path / "exercises"
    shutil.copytree(SOLUTIONS, folder, ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "linear1.py").write_text(
        "import torch\n\n\n"
        "def make_dataset(threes, sevens):\n"
        "    x = torch.cat([threes, sevens]).view(-1, 28 * 28)\n"
        "    return x, torch.tensor([1.0] * len(threes) + [0.0] * len(sevens)).unsqueeze(1)\n\n\n"
        "def linear1(xb):  # the book's way: weights and bias are globals\n"
        "    return xb @ weights + bias\n")
    before = (folder / "linear1.py").read_text()
    run, results = grade_file(folder, "--quick", "linear1")
    assert results.score == step_points("linear1"), run.stdout[-3000:]
    assert (folder / "linear1.py").read_text() == before  # the learner's file is never rewritten


@pytest.mark.parametrize(("name", "content", "message"), [
    ("notes.txt", "chapter 4", "expected an exercises folder, a notebook (.ipynb) or a Python file (.py)"),
    ("not-json.ipynb", "{ this is not json", "not a Jupyter notebook (it is not JSON)"),
    ("empty.ipynb", json.dumps({"cells": [{"cell_type": "code", "source": "x = 1"}]}), "no chapter definition found"),
])
def test_a_file_that_is_not_a_chapter_notebook_gets_one_line(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content)
    run = subprocess.run(["fastgroup", "grade", "--source", str(path)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 2 and message in run.stderr and len(run.stderr.strip().splitlines()) == 1, run.stderr


def test_a_notebook_of_many_megabytes_of_outputs_keeps_only_its_code(tmp_path):
    path = write_notebook(tmp_path / "big.ipynb", BOOK_FLOW + OPTIMIZER, output_bytes=50_000_000)
    assert path.stat().st_size > 50_000_000
    cells = read_cells(path)
    assert sum(len(c.text) for c in cells) < 20_000 and extract(cells, "big").used.keys() >= set(QUICK_STEPS)


def test_cells_are_named_as_jupyter_shows_them(tmp_path):
    doc = notebook_json(["import torch", "def mnist_loss(p, t):\n    return p.mean()"])
    doc["cells"][2]["execution_count"] = 41  # run again later: In [41]
    doc["cells"].insert(2, {"cell_type": "markdown", "metadata": {}, "source": "## Loss"})
    doc["cells"][1]["execution_count"] = None  # never run: its place among all cells
    (tmp_path / "n.ipynb").write_text(json.dumps(doc))
    cells = read_cells(tmp_path / "n.ipynb")
    assert [c.label for c in cells] == ["cell 2", "In [41]"]
    assert extract(cells, "n").used["mnist_loss"] == ["mnist_loss: In [41]: def mnist_loss(p, t):"]


def test_magics_and_shell_lines_are_left_out(tmp_path):
    cells = ["%matplotlib inline\n!pip install fastbook\ndef mnist_loss(p, t):\n    return p.sigmoid().mean()",
             "%%capture\ndef batch_accuracy(xb, yb):\n    return 0"]
    found = extract(read_cells(write_notebook(tmp_path / "m.ipynb", cells)), "m")
    assert "mnist_loss" in found.used and "batch_accuracy" not in found.used  # a %%capture cell is not Python


def test_exercise_files_in_the_books_form_or_the_kits_names_reordered_are_adapted(tmp_path):
    """In exercises/ too: the book's train_epoch(model, lr, params), or the kit's parameter names in
    the learner's own order, is called by what its parameters are, never the kit's way into a TypeError."""
    from grader.engine.sources.extract import adapted_folder

    loop = "    for xb, yb in dl:\n        loss_func(model(xb), yb).backward()\n" \
           "        for p in params:\n            p.data -= p.grad * lr\n            p.grad.zero_()\n"
    shutil.copy(SOLUTIONS / "mnist_loss.py", tmp_path / "mnist_loss.py")
    (tmp_path / "train_epoch.py").write_text(f"def train_epoch(dl, model, loss_func, params, lr):\n{loop}")
    adapted = adapted_folder(tmp_path)
    assert adapted is not None and "_own_train_epoch" in adapted["train_epoch.py"]
    assert adapted["mnist_loss.py"] == (SOLUTIONS / "mnist_loss.py").read_text()  # as written: nothing to adapt
    run = subprocess.run(["fastgroup", "grade", "train_epoch", "--quick", "--source", str(tmp_path)],
                         cwd=KIT_ROOT, capture_output=True, text=True, timeout=300)
    assert "train_epoch: 5/5 points" in run.stdout, run.stdout[-2000:]
