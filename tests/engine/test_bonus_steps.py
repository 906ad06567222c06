"""The bonus steps (beyond the chapter): the reference gets full marks, stubs get zero, planted
mistakes are caught on the right step and named, and correct code written differently passes.
Bonus points are counted apart from the core 100."""

import subprocess

import pytest

from grader.core.steps import BONUS_IDS, STEP_IDS
from grader.engine.checks import REGISTRY
from grader.engine.thresholds import calibrated
from grader.learner.grade import grade
from tests.support.kit import KIT_ROOT, SOLUTIONS
from tests.support.planting import grade_step, plant, replace_body

BONUS = ["softmax", "multiclass_linear", "multiclass_net", "my_learner"]


def test_bonus_steps_follow_the_chapter_and_have_their_own_total():
    assert list(BONUS_IDS) == BONUS and len(STEP_IDS) == 13
    assert sum(c.points for s in STEP_IDS for c in REGISTRY[s]) == 100
    assert sum(c.points for s in BONUS_IDS for c in REGISTRY[s]) == 30
    for step in ("multiclass_linear", "multiclass_net", "my_learner"):
        assert step in calibrated("embedded")


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    return grade(steps=BONUS, source=SOLUTIONS, show=False)


def test_reference_gets_full_bonus_marks(reference):
    failed = [t.name + ": " + t.output for t in reference.tests if t.status != "passed"]
    assert not failed
    # the reference prints nothing: a library's warning is not shown as the learner's output
    assert not [t.output for t in reference.tests if "printed" in t.output]
    assert reference.score == reference.max_score == 30
    assert reference.extra_data.bonus_score == reference.extra_data.bonus_max_score == 30
    limits = calibrated("embedded")
    assert set(reference.extra_data.accuracies) == {"multiclass_linear", "multiclass_net", "my_learner"}
    for step, acc in reference.extra_data.accuracies.items():
        assert acc >= limits[step], step


def test_ten_class_checks_name_the_most_confused_digits_and_save_a_confusion_matrix(reference, kit_home):
    trains = [t for t in reference.tests if "threshold" in t.name]
    assert len(trains) == 3
    for t in trains:
        assert "the digits your model confuses most:" in t.output
    grade(steps=["multiclass_linear"], source=SOLUTIONS, show=False)
    png = kit_home / "plots" / "multiclass_linear-confusion.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_fresh_bonus_stubs_score_zero(fresh_stubs):
    results = grade(steps=BONUS, source=fresh_stubs, show=False)
    assert results.score == 0 and results.extra_data.bonus_score == 0
    assert len(results.tests) == sum(len(REGISTRY[s]) for s in BONUS)
    for test in results.tests:
        assert test.status == "failed"
        assert "not started yet" in test.output and f"{test.tags[0]}: write" in test.output


def test_bonus_points_are_shown_apart_from_the_core_total():
    run = subprocess.run(
        ["fastgroup", "grade", "init_params", "softmax", "--source", str(SOLUTIONS), "--quick"],
        cwd=KIT_ROOT, capture_output=True, text=True,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "Total: 6/6 points" in run.stdout
    assert "Bonus: 8/8 points" in run.stdout


# (step, solution text, planted text, words the message must contain, needs training)
MISTAKES = [
    ("softmax", "shifted = logits - logits.max(dim=-1, keepdim=True).values", "shifted = logits",
     "maximum is not subtracted", False),
    ("softmax", "top = logits.max(dim=-1, keepdim=True).values",
     "logits = softmax(logits)\ntop = logits.max(dim=-1, keepdim=True).values", "given probabilities", False),
    ("softmax", "log_probs = logits - log_sum", "log_probs = softmax(logits).log()", "log 0 = -inf", False),
    ("multiclass_linear", "p.grad.zero_()", "pass", "never cleared", False),
    ("multiclass_linear", "accs = [metric(model(xb), yb) for xb, yb in valid_dl]",
     "accs = [metric(model(xb), yb) for xb, yb in dl]", "validating on the training set", False),
    ("multiclass_linear", "p -= p.grad * lr", "p -= p.grad", "learning rate is ignored", False),
    ("multiclass_net", "hidden = (xb @ w1 + b1).clamp(min=0)", "hidden = xb @ w1 + b1", "no non-linearity", False),
    ("multiclass_net", "w1 = (torch.randn(28 * 28, n_hidden) * math.sqrt(2 / (28 * 28))).requires_grad_()",
     "w1 = torch.randn(28 * 28, n_hidden).requires_grad_()", "randn's std of 1", True),
    ("my_learner", "self.opt.zero_grad()", "pass", "never zeroed", False),
    ("my_learner", "for xb, yb in self.dls.valid:", "for xb, yb in self.dls.train:",
     "validating on the training set", False),
    ("my_learner", "self.model.eval()", "pass", "model.eval() is not called", False),
    ("my_learner", "self.model.train()", "pass", "not put back in training mode", False),
]


@pytest.mark.parametrize(("step", "old", "new", "named", "trains"), MISTAKES, ids=lambda v: str(v)[:30])
def test_planted_bonus_mistake_is_caught_on_the_right_step(warm_service, tmp_path, step, old, new, named, trains):
    folder = plant(tmp_path, step, old, new)
    results, tests = grade_step(folder, step, quick=not trains, service=warm_service)
    failing = [t for t in tests if t.status == "failed"]
    assert failing, f"{step} lost no points"
    assert any(named in t.output for t in failing), [t.output for t in failing]
    if trains:  # a net that starts with std-1 weights also misses the accuracy threshold
        assert any("below the threshold" in t.output for t in failing), [t.output for t in failing]


def test_the_most_confused_digits_are_named_when_training_fails_too(warm_service, tmp_path):
    folder = plant(tmp_path, "multiclass_linear", "p -= p.grad * lr", "p -= p.grad * lr * 0.001")
    _, tests = grade_step(folder, "multiclass_linear", service=warm_service)
    trains = tests[-1]
    assert trains.status == "failed" and "below the threshold" in trains.output
    assert "the digits your model confuses most:" in trains.output


ALTERNATIVES = {
    "softmax": [
        """
        import torch
        import torch.nn.functional as F

        def softmax(logits):
            return torch.exp(logits - torch.logsumexp(logits, dim=-1, keepdim=True))

        def cross_entropy(logits, targets):
            log_probs = logits - torch.logsumexp(logits, dim=1, keepdim=True)
            one_hot = F.one_hot(targets, logits.shape[1]).to(logits.dtype)
            return -(one_hot * log_probs).sum(dim=1).mean()

        def multiclass_accuracy(logits, targets):
            return (logits.max(dim=1).indices == targets).float().mean()
        """,
        """
        import torch

        def softmax(logits):
            e = (logits - logits.amax(dim=1, keepdim=True)).exp()
            return e / e.sum(dim=1, keepdim=True)

        def log_softmax(logits):
            m = logits.amax(dim=1, keepdim=True)
            return logits - m - (logits - m).exp().sum(dim=1, keepdim=True).log()

        def cross_entropy(logits, targets):
            return -log_softmax(logits)[torch.arange(len(targets)), targets].mean()

        def multiclass_accuracy(logits, targets):
            return torch.mean((torch.argmax(logits, 1) == targets).to(torch.float32))
        """,
    ],
    "multiclass_linear": [
        """
        import torch

        def init_linear10(n_classes=10, std=0.01):
            w = torch.empty(784, n_classes).normal_(0, std).requires_grad_()
            b = torch.empty(n_classes).normal_(0, std).requires_grad_()
            return w, b

        def linear10(xb, weights, bias):
            return torch.addmm(bias, xb, weights)

        def fit10(model, params, dl, valid_dl, lr, epochs, loss_func, metric):
            history = []
            for _ in range(epochs):
                for xb, yb in dl:
                    loss_func(model(xb), yb).backward()
                    for p in params:
                        p.data -= lr * p.grad.data
                        p.grad = None
                with torch.no_grad():
                    n = sum(len(yb) for _, yb in valid_dl)
                    acc = sum(metric(model(xb), yb) * len(yb) for xb, yb in valid_dl) / n
                history.append(float(acc))
            return history
        """,
        """
        import torch

        def init_linear10(n_classes=10, std=0.01):
            weights = torch.randn(784, n_classes).mul(std)
            bias = torch.randn(n_classes).mul(std)
            weights.requires_grad = True
            bias.requires_grad = True
            return weights, bias

        def linear10(xb, weights, bias):
            return xb.matmul(weights).add(bias)

        def fit10(model, params, dl, valid_dl, lr, epochs, loss_func, metric):
            def step():
                with torch.no_grad():
                    for p in params:
                        p.sub_(lr * p.grad)
                        p.grad.zero_()

            out = []
            for _ in range(epochs):
                for xb, yb in dl:
                    loss = loss_func(model(xb), yb)
                    loss.backward()
                    step()
                with torch.no_grad():
                    accs = torch.tensor([float(metric(model(xb), yb)) for xb, yb in valid_dl])
                out.append(accs.mean().item())
            return out
        """,
    ],
    "multiclass_net": [
        """
        import math

        import torch
        import torch.nn.functional as F

        def init_net10(n_hidden=64, n_classes=10):
            def layer(n_in, n_out):
                w = (torch.randn(n_in, n_out) * math.sqrt(2.0 / n_in)).requires_grad_()
                return w, torch.zeros(n_out, requires_grad=True)

            w1, b1 = layer(784, n_hidden)
            w2, b2 = layer(n_hidden, n_classes)
            return [w1, b1, w2, b2]

        def net10(xb, params):
            w1, b1, w2, b2 = params
            return F.relu(xb @ w1 + b1) @ w2 + b2
        """,
        """
        import torch

        def init_net10(n_hidden=64, n_classes=10):
            w1, w2 = torch.empty(784, n_hidden), torch.empty(n_hidden, n_classes)
            # PyTorch reads a (a, b) matrix as (out, in): its fan_out is our fan_in
            torch.nn.init.kaiming_normal_(w1, mode="fan_out", nonlinearity="relu")
            torch.nn.init.kaiming_normal_(w2, mode="fan_out", nonlinearity="relu")
            params = [w1, torch.zeros(n_hidden), w2, torch.zeros(n_classes)]
            for p in params:
                p.requires_grad_()
            return params

        def net10(xb, params):
            h = xb @ params[0] + params[1]
            return torch.where(h > 0, h, 0.0) @ params[2] + params[3]
        """,
    ],
    "my_learner": [
        """
        import torch

        class MyLearner:
            def __init__(self, dls, model, loss_func, opt_func, metric, lr=0.1):
                self.dls, self.model, self.loss_func, self.metric = dls, model, loss_func, metric
                self.opt = opt_func(model.parameters(), lr)
                self.train_losses, self.valid_losses, self.metrics = [], [], []

            def fit(self, epochs):
                for _ in range(epochs):
                    self.model.train()
                    losses, sizes = [], []
                    for xb, yb in self.dls.train:
                        self.opt.zero_grad()
                        loss = self.loss_func(self.model(xb), yb)
                        loss.backward()
                        self.opt.step()
                        losses.append(loss.item())
                        sizes.append(len(yb))
                    self.train_losses.append(sum(x * n for x, n in zip(losses, sizes)) / sum(sizes))
                    self.model.eval()
                    valid_loss, metric = self._validate()
                    self.valid_losses.append(valid_loss)
                    self.metrics.append(metric)
                return self.metrics

            @torch.no_grad()
            def _validate(self):
                loss_sum = metric_sum = 0.0
                n = 0
                for xb, yb in self.dls.valid:
                    preds = self.model(xb)
                    loss_sum += self.loss_func(preds, yb).item() * len(yb)
                    metric_sum += self.metric(preds, yb).item() * len(yb)
                    n += len(yb)
                return loss_sum / n, metric_sum / n
        """,
        """
        import torch

        class MyLearner:
            def __init__(self, dls, model, loss_func, opt_func, metric, lr=0.1):
                self.dls, self.model, self.loss_func, self.metric = dls, model, loss_func, metric
                self.opt = opt_func([p for p in model.parameters() if p.requires_grad], lr)
                self.history = {"train_loss": [], "valid_loss": [], "metric": []}

            train_losses = property(lambda self: self.history["train_loss"])
            valid_losses = property(lambda self: self.history["valid_loss"])
            metrics = property(lambda self: self.history["metric"])

            def one_batch(self, xb, yb, training):
                preds = self.model(xb)
                loss = self.loss_func(preds, yb)
                if training:
                    loss.backward()
                    self.opt.step()
                    self.opt.zero_grad()
                    return loss.detach(), None
                return loss, self.metric(preds, yb)

            def fit(self, epochs):
                for _ in range(epochs):
                    self.model.train(True)
                    total, n = torch.zeros(()), 0
                    for xb, yb in self.dls.train:
                        loss, _ = self.one_batch(xb, yb, True)
                        total += loss.cpu() * len(xb)
                        n += len(xb)
                    self.history["train_loss"].append(float(total / n))
                    self.model.train(False)
                    with torch.inference_mode():
                        stats = [(self.one_batch(xb, yb, False), len(xb)) for xb, yb in self.dls.valid]
                    n = sum(k for _, k in stats)
                    self.history["valid_loss"].append(sum(float(loss) * k for (loss, _), k in stats) / n)
                    self.history["metric"].append(sum(float(m) * k for (_, m), k in stats) / n)
                return self.metrics
        """,
    ],
}
CASES = [(step, n, body) for step, bodies in ALTERNATIVES.items() for n, body in enumerate(bodies, 1)]


@pytest.mark.parametrize(("step", "n", "body"), CASES, ids=[f"{s}-{n}" for s, n, _ in CASES])
def test_alternative_correct_bonus_implementation_gets_full_marks(warm_service, tmp_path, step, n, body):
    folder = replace_body(tmp_path, step, body)
    results, tests = grade_step(folder, step, service=warm_service)
    assert results.score == results.max_score, [t.name + ": " + t.output for t in tests if t.status == "failed"]
