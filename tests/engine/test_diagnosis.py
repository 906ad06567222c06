"""The teacher's diagnosis (grader/engine/diagnosis.py): the chapter's mistakes, planted as a learner
writes them and graded through the real grading, are named by what the code does, and only when
exactly one catalogued mistake fits; where two fit, the message lists both and names neither."""

import re
from types import SimpleNamespace

import pytest
import torch

from grader.core.steps import STEP_IDS
from grader.engine import diagnosis
from grader.engine.checks import mistakes
from grader.engine.checks.mistakes import _loops
from grader.engine.checks.mistakes import basic_optim as basic_optim_m
from grader.engine.checks.mistakes import batch_accuracy as batch_accuracy_m
from grader.engine.checks.mistakes import init_params as init_params_m
from grader.engine.checks.mistakes import linear1 as linear1_m
from grader.engine.checks.mistakes import mnist_loss as mnist_loss_m
from grader.engine.checks.mistakes import multiclass_linear as multiclass_linear_m
from grader.engine.checks.mistakes import multiclass_net as multiclass_net_m
from grader.engine.checks.mistakes import pixel_similarity as pixel_m
from grader.engine.checks.mistakes import simple_net as simple_net_m
from grader.engine.checks.mistakes import softmax as softmax_m
from grader.engine.checks.mistakes import train_epoch as train_epoch_m
from grader.engine.checks.mistakes import train_model as train_model_m
from grader.engine.checks.mistakes import validate_epoch as validate_epoch_m
from grader.learner.grade import grade
from tests.support.planting import grade_step, plant, plant_many

# ---------------------------------------------------------------- the catalogue as data

CORE = [s for s in STEP_IDS if diagnosis.catalogue(s) is not None]


def test_every_core_step_that_computes_something_has_a_catalogue():
    assert set(CORE) >= {"pixel_similarity", "init_params", "linear1", "mnist_loss", "calc_grad", "train_epoch",
                         "batch_accuracy", "validate_epoch", "basic_optim", "train_model", "simple_net"}


# short steps: fewer ways to go wrong
FEWEST = {"init_params": 7, "validate_epoch": 7, "calc_grad": 8, "multiclass_net": 9}


BONUS = ["softmax", "multiclass_linear", "multiclass_net"]
# mistakes whose result can equal the reference's (the validation digits' order is drawn afresh for
# every grade, and an accuracy rounded to 2 digits may happen to be one of 4)
SOMETIMES_RIGHT = {validate_epoch_m.ROUNDED}


@pytest.mark.parametrize("step", [*CORE, *BONUS])
def test_each_mistake_is_a_change_with_a_cause_and_a_source(step):
    book = diagnosis.catalogue(step)
    assert len({m.cause for m in book.MISTAKES}) >= FEWEST.get(step, 10)
    for m in book.MISTAKES:
        assert m.changes and all(callable(f) for f in m.changes.values()), m.cause
        # a page anyone can open, the book's notebook, or the kit's own summary of the chapter
        assert m.source.startswith(mistakes.KIT_SUMMARY) or re.search(r"https?://|fastai/fastbook", m.source), m.source


def test_alike_is_within_rounding_and_strict_about_kind_shape_and_gradient():
    a = torch.tensor([1.0, 2.0])
    assert diagnosis.alike(a, a + 1e-6)
    assert not diagnosis.alike(a, a + 1e-3)
    assert not diagnosis.alike(0.41, 0.4102)  # an accuracy rounded to 2 digits is not the one of 4
    assert not diagnosis.alike(a, a.view(2, 1))
    assert not diagnosis.alike(torch.tensor(0.5), 0.5)  # a tensor is not a number
    assert not diagnosis.alike(a, a.clone().requires_grad_())
    assert diagnosis.alike(torch.tensor([float("nan")]), torch.tensor([float("nan")]))
    assert diagnosis.alike({"x": [a, None]}, {"x": [a.clone(), None]})
    assert diagnosis.alike(diagnosis.Raised.of("RuntimeError", "boom\nmore"), diagnosis.Raised("RuntimeError", "boom"))
    assert not diagnosis.alike(diagnosis.Raised("RuntimeError", "boom"), diagnosis.Raised("ValueError", "boom"))


def test_a_witness_keeps_each_call_and_what_it_raised():
    def broken(x):
        raise ValueError("no")

    witness = diagnosis.Witness(SimpleNamespace(double=lambda x: 2 * x, broken=broken, output=["printed"]))
    assert witness.double(2) == 4
    with pytest.raises(ValueError, match="no"):
        witness.broken(1)
    assert witness.output == ["printed"]
    assert [(c.target, c.args, c.got) for c in witness.calls] == [
        ("double", (2,), 4), ("broken", (1,), diagnosis.Raised("ValueError", "no"))]


def test_a_cause_is_named_only_when_exactly_one_mistake_fits():
    ref = SimpleNamespace(f=lambda x: x + 1)
    mistakes = [diagnosis.mistake("doubled", "x", f=lambda x: 2 * x),
                diagnosis.mistake("squared", "x", f=lambda x: x * x),
                diagnosis.mistake("negated", "x", f=lambda x: -x)]

    def learner(f, more=None):
        book = SimpleNamespace(MISTAKES=mistakes, MORE=more or {})
        witness = diagnosis.Witness(SimpleNamespace(f=f))
        witness.f(2.0)
        return diagnosis.diagnose("f", witness, ref, 0, book)

    assert learner(lambda x: 2 * x).causes == ["doubled", "squared"]  # at 2.0 both fit: none named
    assert learner(lambda x: 2 * x).named is None
    further = {"f": lambda seed, given: [("f", (3.0,))]}  # a further input tells them apart
    assert learner(lambda x: 2 * x, further).named == "doubled"
    assert learner(lambda x: x * x, further).named == "squared"
    assert learner(lambda x: -x).named == "negated"
    assert learner(lambda x: x + 1).checked is False  # the reference's own values: nothing to diagnose
    assert learner(lambda x: x + 5).causes == []


# ---------------------------------------------------------------- graded through the real grading

# (step, solution text, planted text, the one cause that must be named)
NAMED = [
    ("pixel_similarity", "return (a - b).abs().mean((-1, -2))", "return ((a - b) ** 2).mean((-1, -2))", pixel_m.MSE),
    ("pixel_similarity", "return (a - b).abs().mean((-1, -2))", "return (a - b).mean((-1, -2))", pixel_m.NO_ABS),
    ("pixel_similarity", "return (a - b).abs().mean((-1, -2))", "return (a / 255 - b / 255).abs().mean((-1, -2))",
     pixel_m.SCALED),
    ("pixel_similarity", "return (a - b).abs().mean((-1, -2))", "return (a - b).abs().mean(-1)", pixel_m.LAST_AXIS),
    ("pixel_similarity", "return (a - b).abs().mean((-1, -2))", "return (a.mean((-1, -2)) - b.mean((-1, -2))).abs()",
     pixel_m.BRIGHTNESS),
    ("init_params", "return (torch.randn(size) * std).requires_grad_()", "return torch.randn(size) * std",
     init_params_m.FORGOTTEN),
    ("init_params", "return (torch.randn(size) * std).requires_grad_()",
     "return (torch.rand(size) * std).requires_grad_()", init_params_m.UNIFORM),
    ("init_params", "return (torch.randn(size) * std).requires_grad_()", "return torch.randn(size).requires_grad_()",
     init_params_m.NO_STD),
    ("init_params", "return (torch.randn(size) * std).requires_grad_()",
     "t = torch.randn(size).requires_grad_()\nt *= std\nreturn t", init_params_m.IN_PLACE),
    ("init_params", "return (torch.randn(size) * std).requires_grad_()", "return torch.zeros(size).requires_grad_()",
     init_params_m.ZEROS),
    ("linear1", "x = torch.cat([threes, sevens]).view(-1, 28 * 28)",
     "x = torch.cat([threes, sevens]).view(-1, 28 * 28) / 255", linear1_m.SCALED_TWICE),
    ("linear1", "x = torch.cat([threes, sevens]).view(-1, 28 * 28)",
     "x = torch.cat([sevens, threes]).view(-1, 28 * 28)", linear1_m.ORDER),
    ("linear1", "x = torch.cat([threes, sevens]).view(-1, 28 * 28)",
     "x = torch.cat([threes, sevens]).view(28 * 28, -1)", linear1_m.TRANSPOSED),
    ("linear1", "return xb @ weights + bias", "return xb * weights + bias", linear1_m.ELEMENTWISE),
    ("linear1", "return xb @ weights + bias", "return xb @ weights.T + bias", linear1_m.WEIGHTS_T),
    ("linear1", "return xb @ weights + bias", "return xb @ weights * bias", linear1_m.TIMES_BIAS),
    ("mnist_loss", "return torch.where(targets == 1, 1 - p, p).mean()",
     "return torch.nn.functional.binary_cross_entropy(p, targets)", mnist_loss_m.BCE),
    ("mnist_loss", "p = predictions.sigmoid()\nreturn torch.where(targets == 1, 1 - p, p).mean()",
     "return torch.nn.functional.binary_cross_entropy_with_logits(predictions.sigmoid(), targets)",
     mnist_loss_m.BCE_ON_PROBS),
    ("mnist_loss", "return torch.where(targets == 1, 1 - p, p).mean()", "return ((p - targets) ** 2).mean()",
     mnist_loss_m.MSE),
    ("mnist_loss", "return torch.where(targets == 1, 1 - p, p).mean()",
     "return torch.where(targets == 1, 1 - p, p).sum()", mnist_loss_m.SUM),
    ("mnist_loss", "p = predictions.sigmoid()", "p = (predictions.sigmoid() > 0.5).float()", mnist_loss_m.THRESHOLDED),
    ("mnist_loss", "p = predictions.sigmoid()", "p = torch.softmax(predictions, dim=1)", mnist_loss_m.SOFTMAX_ONE),
    ("calc_grad", "loss = loss_func(preds, yb)", "loss = loss_func(yb, preds)", _loops.SWAPPED_LOSS),
    ("calc_grad", "loss.backward()", "loss.item().backward()", _loops.ITEM),
    ("calc_grad", "loss.backward()", "loss.backward()\nloss.backward()", _loops.TWICE),
    ("calc_grad", "loss.backward()", "preds.backward()", _loops.ON_PREDS),
    ("train_epoch", "loss = loss_func(model(xb), yb)", "loss = loss_func(yb, model(xb))", _loops.SWAPPED_LOSS),
    ("train_epoch", "p.grad.zero_()", "pass", train_epoch_m.NOT_ZEROED),
    ("train_epoch", "for p in params:", "for p in params[:1]:", train_epoch_m.FIRST_ONLY),
    ("batch_accuracy", "correct = (preds > 0.5) == yb", "correct = (preds < 0.5) == yb", batch_accuracy_m.REVERSED),
    ("batch_accuracy", "correct = (preds > 0.5) == yb", "correct = preds.view(-1) > 0.5\ncorrect = correct == yb",
     batch_accuracy_m.BROADCAST),
    ("batch_accuracy", "return correct.float().mean()", "return correct.mean()", batch_accuracy_m.NO_FLOAT),
    ("batch_accuracy", "return correct.float().mean()", "return correct.float().mean().item()", batch_accuracy_m.ITEM),
    ("batch_accuracy", "correct = (preds > 0.5) == yb", "correct = xb_preds.argmax(dim=1) == yb",
     batch_accuracy_m.ARGMAX),
    ("validate_epoch", "return round(torch.stack(accs).mean().item(), 4)",
     "return round(torch.stack(accs).sum().item(), 4)", validate_epoch_m.SUMMED),
    ("validate_epoch", "accs = [metric(model(xb), yb) for xb, yb in valid_dl]",
     "accs = [metric(yb, model(xb)) for xb, yb in valid_dl]", validate_epoch_m.ARGS),
    ("validate_epoch", "return round(torch.stack(accs).mean().item(), 4)",
     "return round(torch.stack(accs).mean().item() * 100, 4)", validate_epoch_m.PERCENT),
    ("validate_epoch", "accs = [metric(model(xb), yb) for xb, yb in valid_dl]",
     "accs = [metric(model(xb).sigmoid(), yb) for xb, yb in valid_dl]", validate_epoch_m.SIGMOID),
    ("basic_optim", "p.data -= p.grad.data * self.lr", "p.data -= p.grad.data / self.lr", basic_optim_m.DIVIDED),
    ("basic_optim", "p.data -= p.grad.data * self.lr", "p = p - p.grad * self.lr", basic_optim_m.REBOUND),
    ("basic_optim", "p.data -= p.grad.data * self.lr", "p.data -= p.grad.data * self.lr\nreturn",
     basic_optim_m.FIRST_ONLY),
    ("basic_optim", "self.params = list(params)", "self.params = [params]", basic_optim_m.WRAPPED),
    ("train_model", "opt = opt_func(model.parameters(), lr)", "opt = opt_func(model.parameters(), 1.0)",
     train_model_m.FIXED_LR),
    ("train_model", "loss = loss_func(model(xb), yb)", "loss = loss_func(yb, model(xb))", _loops.SWAPPED_LOSS),
    ("train_model", "return accuracies", "return accuracies[-1]", train_model_m.LAST_ONLY),
    ("train_model", "for _ in range(epochs):", "for _ in range(1):", train_model_m.ONE_EPOCH),
    ("simple_net", "res = res.max(res.new_zeros(()))", "res = res.max(0)", simple_net_m.MAX_DIM),
    ("simple_net", "res = res.max(res.new_zeros(()))", "res = res.clamp(max=0)", simple_net_m.CLAMP_MAX),
    ("simple_net", "res = xb @ w1 + b1\nres = res.max(res.new_zeros(()))",
     "res = xb.clamp(min=0) @ w1 + b1", simple_net_m.RELU_INPUT),
    ("simple_net", "nn.Linear(28 * 28, n_hidden),\nnn.ReLU(),\nnn.Linear(n_hidden, 1),",
     "nn.Linear(28 * 28, 30),\nnn.ReLU(),\nnn.Linear(30, 1),", simple_net_m.FIXED_WIDTH),
    ("softmax", "return exps / exps.sum(dim=-1, keepdim=True)", "return logits.sigmoid()", softmax_m.SIGMOID),
    ("softmax", "return exps / exps.sum(dim=-1, keepdim=True)", "return exps / exps.sum(dim=-1)", softmax_m.NO_KEEPDIM),
    ("multiclass_linear", "return xb @ weights + bias", "return torch.softmax(xb @ weights + bias, dim=-1)",
     multiclass_linear_m.SOFTMAX_OUT),
    ("multiclass_linear", "p.grad.zero_()", "pass", multiclass_linear_m.NOT_ZEROED),
    ("multiclass_net", "return hidden @ w2 + b2", "return torch.softmax(hidden @ w2 + b2, dim=-1)",
     multiclass_net_m.SOFTMAX_OUT),
    ("multiclass_net", "hidden = (xb @ w1 + b1).clamp(min=0)", "hidden = (xb @ w1 + b1).sigmoid()",
     multiclass_net_m.SIGMOID_HIDDEN),
    ("pixel_similarity", "return (a - b).abs().mean((-1, -2))", "return torch.nn.functional.mse_loss(a, b).sqrt()",
     pixel_m.RMSE_ALL),
    ("mnist_loss", "p = predictions.sigmoid()\nreturn torch.where(targets == 1, 1 - p, p).mean()",
     "return (targets - predictions).abs().mean()", mnist_loss_m.NO_SIGMOID),
    ("train_epoch", "p.data -= p.grad * lr", "p.data -= lr", train_epoch_m.NO_GRADIENT),
    ("basic_optim", "p.grad = None", "p.grad = 0", basic_optim_m.ZERO_NUMBER),
    ("train_model", "for xb, yb in dl:", "for xb, yb in valid_dl:", train_model_m.ON_VALID),
    ("linear1", "return xb @ weights + bias", "return (xb * weights.T).sum(dim=1) + bias", linear1_m.ROWS_SUMMED),
    ("softmax", "return -log_probs.gather(1, targets.view(-1, 1)).mean()",
     "return -log_probs.gather(1, targets.view(-1, 1)).sum()", softmax_m.SUM),
    ("softmax", "return (logits.argmax(dim=1) == targets).float().mean()",
     "return (logits.argmax(dim=0) == targets).float().mean()", softmax_m.ARGMAX_DIM),
]


def rounds(cases):
    """The cases dealt into rounds of at most one per step: each round is one grade."""
    dealt: list[list] = []
    for case in cases:
        room = next((r for r in dealt if all(c[0] != case[0] for c in r)), None)
        if room is None:
            dealt.append(room := [])
        room.append(case)
    return dealt


def graded_round(tmp_path, cases, service):
    folder = plant_many(tmp_path, [(step, old, new) for step, old, new, _ in cases])
    return grade(steps=[c[0] for c in cases], source=folder, quick=True, seed=0, show=False, service=service)


@pytest.mark.parametrize("batch", rounds(NAMED), ids=lambda r: f"{len(r)} steps")
def test_each_catalogued_mistake_is_named_by_what_it_does(warm_service, tmp_path, batch):
    results = graded_round(tmp_path, batch, warm_service)
    for step, _, new, cause in batch:
        tests = [t for t in results.tests if t.tags == [step]]
        failing = [t for t in tests if t.status == "failed"]
        assert failing, f"{step}: {new!r} lost no points"
        named = {m for n, m in results.extra_data.mistakes.items() if n.startswith(f"{step}.")}
        assert cause[:300] in named, (step, new, [t.output for t in failing])
        assert named == {cause[:300]}, (step, new, named)  # never another cause
        assert any(f"Likely mistake: {cause}" in t.output for t in failing), [t.output for t in failing]


# Two catalogued mistakes give exactly what the code gives: both are listed as open, neither named.
LOOK_ALIKE = [
    ("pixel_similarity", "return mnist_distance(x, mean3) < mnist_distance(x, mean7)",
     "return mnist_distance(x, mean7) < mnist_distance(x, mean3)", (pixel_m.REVERSED, pixel_m.MEANS_SWAPPED)),
    ("mnist_loss", "p = predictions.sigmoid()", "p = 1 / (1 + predictions.exp())",
     (mnist_loss_m.SWAPPED, mnist_loss_m.SIGN_FLIPPED)),
    ("calc_grad", "preds = model(xb)", "with torch.no_grad():\n    preds = model(xb)",
     (_loops.DETACHED, _loops.DATA, _loops.NO_GRAD)),
    ("train_epoch", "p.data -= p.grad * lr\np.grad.zero_()", "p.grad.zero_()\np.data -= p.grad * lr",
     (train_epoch_m.REBOUND, train_epoch_m.ZERO_FIRST)),
    ("batch_accuracy", "correct = (preds > 0.5) == yb", "correct = (preds > 0) == yb",
     (batch_accuracy_m.TWICE, batch_accuracy_m.AT_ZERO_AFTER_SIGMOID)),
    ("validate_epoch", "accs = [metric(model(xb), yb) for xb, yb in valid_dl]",
     "for xb, yb in valid_dl:\n    accs = [metric(model(xb), yb)]", (validate_epoch_m.LAST, validate_epoch_m.RESET)),
    ("basic_optim", "p.grad = None", "p.data.zero_()", (basic_optim_m.ZERO_DATA, basic_optim_m.ZERO_NOTHING)),
    ("train_model", "loss.backward()\nopt.step()\nopt.zero_grad()", "loss.backward()\nopt.zero_grad()",
     (train_model_m.ZERO_FIRST, train_model_m.NO_STEP)),
    ("simple_net", "res = res.max(res.new_zeros(()))", "res.max(res.new_zeros(()))",
     (simple_net_m.NO_RELU, simple_net_m.UNASSIGNED)),
]


def test_where_two_mistakes_fit_both_are_listed_and_none_is_named(warm_service, tmp_path):
    results = graded_round(tmp_path, LOOK_ALIKE, warm_service)
    for step, _, new, causes in LOOK_ALIKE:
        failing = [t for t in results.tests if t.tags == [step] and t.status == "failed"]
        assert failing, f"{step}: {new!r} lost no points"
        listed = [t for t in failing if "known mistakes give exactly what your code gave" in t.output]
        assert listed, (step, [t.output for t in failing])
        assert all(all(c in t.output for c in causes) for t in listed), (step, [t.output for t in listed])
        assert not any("Likely mistake" in t.output for t in listed), (step, [t.output for t in listed])


def test_a_loss_called_with_its_arguments_swapped_is_told_so_and_nothing_false(warm_service, tmp_path):
    """The case that misled: backward()'s error listed five causes, none true here (requires_grad_
    forgotten, .detach(), .data, .item(), torch.no_grad())."""
    folder = plant(tmp_path, "calc_grad", "loss = loss_func(preds, yb)", "loss = loss_func(yb, preds)")
    results, tests = grade_step(folder, "calc_grad", quick=True, service=warm_service)
    out = tests[0].output
    assert "nothing to backpropagate" in out and f"Likely mistake: {_loops.SWAPPED_LOSS}" in out, out
    # the traceback's line is the backward(); the wrong value is made on the line before it
    assert re.search(r"the wrong value is made at calc_grad\.py, line \d+: loss = loss_func\(yb, preds\)", out), out
    for untrue in ("requires_grad_ forgotten", ".detach()", ".item()", "torch.no_grad()"):
        assert untrue not in out, out


def test_code_the_catalogue_does_not_know_names_nothing(warm_service, tmp_path):
    folder = plant(tmp_path, "mnist_loss", "p = predictions.sigmoid()", "p = predictions.sigmoid() * 2")
    results, tests = grade_step(folder, "mnist_loss", quick=True, service=warm_service)
    assert all(t.status == "failed" for t in tests[:3])
    assert not any("Likely mistake" in t.output or "known mistakes" in t.output for t in tests)


@pytest.mark.slow
@pytest.mark.parametrize("step", [*CORE, *BONUS])
def test_every_catalogued_mistake_run_as_the_learners_code_is_named_or_left_open(step):
    """The whole catalogue, each mistake's own code in the learner's place (the in-kernel judge: no
    sandbox), through the step's unit checks: its cause is named, or listed among the causes left
    open; no other cause is ever named."""
    from grader.engine.judges.judge import judge_in_kernel
    from grader.engine.loading import load_reference

    book, ref = diagnosis.catalogue(step), load_reference(step)
    for m in book.MISTAKES:
        failed = [r for _, r in judge_in_kernel(step, m.module(ref), None, "embedded", "cpu", 0, True) if not r.passed]
        if not failed and m.cause in SOMETIMES_RIGHT:
            continue
        assert failed, m.cause
        assert {r.mistake for r in failed} <= {m.cause, None}, (m.cause, {r.mistake for r in failed})
        assert any(r.mistake == m.cause or m.cause in r.message for r in failed), (m.cause, [r.message for r in failed])
