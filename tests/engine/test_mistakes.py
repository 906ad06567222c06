"""Each mistake learners make in this chapter, planted in a copy of solutions/, is caught on
the right step and named in the message."""

import re

import pytest

from tests.support.planting import grade_step, plant

# (step, solution text, planted text, words the message must contain (one or a tuple), needs training)
MISTAKES = [
    ("train_epoch", "p.grad.zero_()", "pass", "never zeroed", False),
    ("train_model", "opt.zero_grad()", "pass", "never zeroed", False),
    ("init_params", "return (torch.randn(size) * std).requires_grad_()", "return torch.randn(size) * std",
     "requires_grad_", False),
    ("init_params", "return (torch.randn(size) * std).requires_grad_()",
     "return torch.randn(size, requires_grad=True) * std", "requires_grad=True) before the multiplication", False),
    ("mnist_loss", "p = predictions.sigmoid()", "p = predictions.sigmoid().sigmoid()",
     "sigmoid is applied twice", False),
    ("mnist_loss", "p = predictions.sigmoid()", "p = predictions", "sigmoid is missing", False),
    ("linear1", "y = torch.tensor([1.0] * len(threes) + [0.0] * len(sevens)).unsqueeze(1)",
     "y = torch.tensor([1.0] * len(threes) + [0.0] * len(sevens))", "broadcast", False),
    ("mnist_loss", "p = predictions.sigmoid()", "p = predictions.sigmoid().view(-1)", "(bs, bs)", False),
    ("batch_accuracy", "correct = (preds > 0.5) == yb", "correct = (xb_preds > 0.5) == yb", "compared with 0.5", False),
    ("train_epoch", "p.data -= p.grad * lr", "p.data += p.grad * lr", "uphill", False),
    ("train_epoch", "p.data -= p.grad * lr", "p.data -= p.grad", "learning rate is ignored", False),
    ("basic_optim", "p.data -= p.grad.data * self.lr", "p.data += p.grad.data * self.lr", "uphill", False),
    ("basic_optim", "p.data -= p.grad.data * self.lr", "p.data -= p.grad.data", "learning rate is ignored", False),
    ("basic_optim", "p.data -= p.grad.data * self.lr", "p -= p.grad * self.lr", "an update goes through p.data",
     False),
    ("simple_net", "res = res.max(res.new_zeros(()))", "res = res", "no non-linearity", False),
    ("simple_net", "nn.ReLU(),", "", "no non-linearity", False),
    ("simple_net", "nn.ReLU(),", "nn.ReLU,", "module instances", False),
    ("simple_net", "nn.ReLU(),", "nn.functional.relu,", "module instances", False),
    ("train_model", "opt = opt_func(model.parameters(), lr)", "opt = opt_func(nn.Linear(28 * 28, 1).parameters(), lr)",
     "another model's parameters", False),
    ("train_model", "accs = [metric(model(xb), yb) for xb, yb in valid_dl]",
     "accs = [metric(model(xb), yb) for xb, yb in dl]",
     ("validating on the training set", "with the validation labels flipped"), False),  # what the probe did too
    ("validate_epoch", "return round(torch.stack(accs).mean().item(), 4)", "return torch.stack(accs).mean()",
     "still a tensor", False),
    ("calc_grad", "loss.backward()", "loss.backward()\nmodel_params = None", None, False),  # control: still passes
    ("calc_grad", "loss.backward()", "pass", "backward() was never called", False),
    ("pixel_similarity", "return (a - b).abs().mean((-1, -2))", "return ((a - b) ** 2).mean((-1, -2)).sqrt()",
     "RMSE", False),
    ("pixel_similarity", "return mnist_distance(x, mean3) < mnist_distance(x, mean7)",
     "return mnist_distance(x, mean3) > mnist_distance(x, mean7)", "reversed", False),
]


@pytest.mark.parametrize(("step", "old", "new", "named", "trains"), MISTAKES, ids=lambda v: str(v)[:30])
def test_planted_mistake_is_caught_on_the_right_step(warm_service, tmp_path, step, old, new, named, trains):
    folder = plant(tmp_path, step, old, new)
    results, tests = grade_step(folder, step, quick=not trains, service=warm_service)
    if named is None:  # a harmless change: full marks
        assert results.score == results.max_score
        return
    failing = [t for t in tests if t.status == "failed"]
    assert failing, f"{step} lost no points"
    assert results.score < results.max_score
    words = named if isinstance(named, tuple) else (named,)
    assert any(all(w in t.output for w in words) for t in failing), [t.output for t in failing]


def test_training_catches_a_step_that_never_moves(warm_service, tmp_path):
    """A train_epoch that rebinds instead of updating trains nothing: the training check fails too."""
    folder = plant(tmp_path, "train_epoch", "p.data -= p.grad * lr\np.grad.zero_()", "p = p - p.grad * lr")
    results, tests = grade_step(folder, "train_epoch", service=warm_service)
    assert [t.status for t in tests] == ["failed", "failed"]
    assert "parameters never change" in tests[0].output
    assert "below the threshold" in tests[1].output


# Mistakes that look alike to the grader: it says what it saw and names none of them.
LOOK_ALIKE = [
    ("train_epoch", "p.data -= p.grad * lr\np.grad.zero_()", "p = p - p.grad * lr", "parameters never change"),
    ("train_epoch", "p.data -= p.grad * lr\np.grad.zero_()", "p.grad.zero_()\np.data -= p.grad * lr",
     "parameters never change"),
    ("calc_grad", "preds = model(xb)", "preds = model(xb).detach()", "nothing to backpropagate"),
    ("calc_grad", "preds = model(xb)", "preds = model(xb).data", "nothing to backpropagate"),
    # in-place operations on a tensor that requires grad: the update, the weights zeroed, the scaling
    ("train_epoch", "p.data -= p.grad * lr", "p -= p.grad * lr", "an update goes through p.data"),
    ("train_epoch", "p.grad.zero_()", "p.zero_()", "zeroing is for p.grad and not p"),
    # gradients zeroed before the first backward(): .grad is still None
    ("train_epoch", "loss = loss_func(model(xb), yb)", "for p in params:\n    p.grad.zero_()\n"
     "loss = loss_func(model(xb), yb)", "stays None until a backward() fills it"),
    # a sigmoid compared with 0, or a sigmoid applied twice: either way every item is called a 3
    ("batch_accuracy", "correct = (preds > 0.5) == yb", "correct = (preds > 0) == yb", "counted as a 3"),
    ("batch_accuracy", "preds = xb_preds.sigmoid()", "preds = xb_preds.sigmoid().sigmoid()", "counted as a 3"),
]


@pytest.mark.parametrize(("step", "old", "new", "seen"), LOOK_ALIKE, ids=lambda v: str(v)[:24])
def test_when_two_mistakes_fit_no_cause_is_named(warm_service, tmp_path, step, old, new, seen):
    folder = plant(tmp_path, step, old, new)
    results, tests = grade_step(folder, step, quick=True, service=warm_service)
    failing = [t for t in tests if t.status == "failed"]
    assert failing and any(seen in t.output for t in failing), [t.output for t in tests]
    assert not any("Likely mistake" in t.output for t in failing if seen in t.output), [t.output for t in failing]


# Causes named only when exactly one planted mistake fits the observation.
NAMED = [
    ("mnist_loss", "p = predictions.sigmoid()", "p = predictions.sigmoid().detach()", "detached"),
    ("simple_net", "nn.Linear(n_hidden, 1),", "nn.Linear(n_hidden, 1), nn.ReLU(),", "after the last layer"),
    ("simple_net", "res = res @ w2 + b2", "res = (res @ w2 + b2).sigmoid()", "sigmoid"),
    ("softmax", "shifted = logits - logits.max(dim=-1, keepdim=True).values", "shifted = logits - logits.max()",
     "maximum of the whole batch"),
    ("pixel_similarity", "return (a - b).abs().mean((-1, -2))", "return (a - b).abs().sum((-1, -2))", "summed"),
    ("softmax", "return exps / exps.sum(dim=-1, keepdim=True)", "return exps / exps.sum(dim=0, keepdim=True)",
     "wrong dimension"),
    ("softmax", "return exps / exps.sum(dim=-1, keepdim=True)", "return exps / exps.sum()", "whole batch"),
    ("softmax", "return -log_probs.gather(1, targets.view(-1, 1)).mean()",
     "return log_probs.gather(1, targets.view(-1, 1)).mean()", "minus sign"),
    ("softmax", "return -log_probs.gather(1, targets.view(-1, 1)).mean()", "return -log_probs[:, targets].mean()",
     "bs x bs"),
    ("batch_accuracy", "return correct.float().mean()", "return correct.float().sum()", "counted"),
    ("linear1", "return xb @ weights + bias", "return (xb @ weights + bias).sigmoid()", "linear1 returns logits"),
    ("simple_net", "res = res.max(res.new_zeros(()))", "res = res.sigmoid()", "hidden layer goes through a sigmoid"),
    ("simple_net", "res = res @ w2 + b2", "res = res @ w2", "b2 is not added"),
    ("simple_net", "nn.ReLU(),", "nn.Sigmoid(),", "hidden layer goes through a sigmoid"),
    # of the in-place operations on a leaf, only scaling new weights after requires_grad_() happens in init_params
    ("init_params", "return (torch.randn(size) * std).requires_grad_()",
     "t = torch.randn(size).requires_grad_()\nt *= std\nreturn t",
     "changed in place (*=, mul_ ...) after requires_grad_()"),
]


@pytest.mark.parametrize(("step", "old", "new", "named"), NAMED, ids=lambda v: str(v)[:24])
def test_a_cause_is_named_when_exactly_one_fits(warm_service, tmp_path, step, old, new, named):
    folder = plant(tmp_path, step, old, new)
    results, tests = grade_step(folder, step, quick=True, service=warm_service)
    assert any("Likely mistake" in t.output and named in t.output for t in tests), [t.output for t in tests]


def test_a_flat_training_curve_names_no_cause_where_the_kit_does_the_updating(warm_service, tmp_path):
    """A one-unit bottleneck (a public learner's net) trains badly; the kit's own optimizer does the
    updating here, so 'the parameters are not being updated' would send the learner the wrong way."""
    folder = plant(tmp_path, "simple_net", "nn.Linear(28 * 28, n_hidden),\nnn.ReLU(),\nnn.Linear(n_hidden, 1),",
                   "nn.Linear(28 * 28, 1),\nnn.ReLU(),\nnn.Linear(1, 1),")
    results, tests = grade_step(folder, "simple_net", service=warm_service)
    training = tests[-1]
    assert training.status == "failed"
    assert "Likely mistake" not in training.output and "not being updated" not in training.output


# Mistakes a training run can scrape past the threshold with: judged against the reference's own run.
RETRACE = [
    ("train_epoch", "for p in params:", "for p in params[:1]:"),  # the bias is never updated
    ("train_model", "loss = loss_func(model(xb), yb)", "loss = loss_func(model(xb), yb) * 1.2"),  # a scaled loss
    ("simple_net", "nn.Linear(n_hidden, 1),", "nn.Linear(n_hidden, 1), nn.Tanh(),"),  # squashed output
    ("learner", "return Learner(dls, model, opt_func=SGD, loss_func=loss_func, metrics=metric)",  # an extra epoch
     "learn = Learner(dls, model, opt_func=SGD, loss_func=loss_func, metrics=metric)\nlearn.fit(1, 1.0)\nreturn learn"),
]


@pytest.mark.parametrize(("step", "old", "new"), RETRACE, ids=[r[0] for r in RETRACE])
def test_a_run_that_does_not_retrace_the_reference_fails_its_training_check(warm_service, tmp_path, step, old, new):
    folder = plant(tmp_path, step, old, new)
    results, tests = grade_step(folder, step, service=warm_service)
    training = [t for t in tests if "threshold" in t.name]
    assert training and training[0].status == "failed", [t.output for t in tests]
    # each reaches the threshold: only the comparison with the reference's own run catches it
    assert "does not retrace the reference" in training[0].output, training[0].output
    # where both runs are right they agree: the predictions that differ are at most the two runs' errors
    seen = r"accuracy ([\d.]+) \(the reference ([\d.]+)\).*\((\d+) of (\d+) predictions differ"
    got, ref, differ, total = map(float, re.search(seen, training[0].output).groups())
    assert differ <= round((1 - got) * total) + round((1 - ref) * total), training[0].output


def test_one_answer_for_a_whole_stack_never_scores_on_the_baseline(warm_service, tmp_path):
    """mnist_distance averaged over every axis makes is_3 answer once for the whole stack."""
    folder = plant(tmp_path, "pixel_similarity", "return (a - b).abs().mean((-1, -2))", "return (a - b).abs().mean()")
    results, tests = grade_step(folder, "pixel_similarity", service=warm_service)
    baseline = tests[-1]
    assert baseline.status == "failed" and baseline.score == 0
    assert "not one answer per image" in baseline.output
    assert "pixel_similarity" not in results.extra_data.accuracies  # no 100% on the board


def test_a_mistake_costs_only_its_own_step(tmp_path):
    from grader.learner.grade import grade

    folder = plant(tmp_path, "mnist_loss", "p = predictions.sigmoid()", "p = predictions")
    results = grade(steps=["init_params", "mnist_loss", "batch_accuracy"], source=folder, quick=True, show=False)
    lost = {t.tags[0] for t in results.tests if t.status == "failed"}
    assert lost == {"mnist_loss"}


def test_a_download_attempt_is_explained_as_grading_offline(warm_service, tmp_path):
    """pretrained=True fetches weights; in the sandbox there is no network. The error is raised here
    as the sandbox raises it, so the test downloads nothing wherever it runs."""
    folder = plant(tmp_path, "resnet18", "return vision_learner(", "import socket, urllib.error\n"
                   "raise urllib.error.URLError(socket.gaierror(-3, 'Temporary failure in name resolution'))\n"
                   "return vision_learner(")
    results, tests = grade_step(folder, "resnet18", quick=True, service=warm_service)
    assert tests and tests[0].status == "failed"
    assert "grading runs without a network" in tests[0].output and "pretrained=False" in tests[0].output


def test_a_none_that_is_not_a_gradient_is_not_explained_as_one(warm_service, tmp_path):
    folder = plant(tmp_path, "simple_net", "res = xb @ w1 + b1", "res = None")
    results, tests = grade_step(folder, "simple_net", quick=True, service=warm_service)
    assert "has no attribute 'max'" in tests[0].output and "gradient" not in tests[0].output, tests[0].output


def test_a_mistake_no_catalogue_names_still_shows_got_against_expected(warm_service, tmp_path):
    folder = plant(tmp_path, "mnist_loss", "p = predictions.sigmoid()", "p = predictions.sigmoid() * 2")
    results, tests = grade_step(folder, "mnist_loss", quick=True, service=warm_service)
    example = tests[0].output.splitlines()
    assert example[1] == "  given: the chapter's example: logits whose sigmoids are 0.9, 0.4, 0.2; targets 1, 0, 1"
    assert example[2] == "  yours 0.2, expected 0.4333"
    gradient = results.extra_data.differences["mnist_loss.3"]
    assert gradient.relation == "yours is 2x the expected" and "yours is 2x the expected" in tests[2].output
    assert len(gradient.positions) == 3 and gradient.got.shape == gradient.expected.shape == [16, 1]
    assert all(abs(p.got - 2 * p.expected) < 1e-4 for p in gradient.positions)
