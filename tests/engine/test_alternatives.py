"""Correct code written differently from solutions/ gets full marks: two alternatives per step."""

import pytest

from tests.support.planting import grade_step, replace_body

ALTERNATIVES = {
    "pixel_similarity": [
        """
        import torch

        def mnist_distance(a, b):
            return torch.abs(a - b).mean(dim=(-2, -1))

        def is_3(x, mean3, mean7):
            return torch.lt(mnist_distance(x, mean3), mnist_distance(x, mean7))
        """,
        """
        def mnist_distance(a, b):
            diff = (a - b).abs()
            return diff.sum(-1).sum(-1) / (a.shape[-1] * a.shape[-2])

        def is_3(x, mean3, mean7):
            return (mnist_distance(x, mean7) - mnist_distance(x, mean3)) > 0
        """,
    ],
    "init_params": [
        """
        import torch

        def init_params(size, std=1.0):
            return torch.normal(0.0, std, size=size if isinstance(size, tuple) else (size,)).requires_grad_(True)
        """,
        """
        import torch

        def init_params(size, std=1.0):
            w = torch.empty(size)
            torch.nn.init.normal_(w, mean=0.0, std=std)
            w.requires_grad = True
            return w
        """,
    ],
    "linear1": [
        """
        import torch

        def make_dataset(threes, sevens):
            x = torch.cat((threes.reshape(len(threes), -1), sevens.reshape(len(sevens), -1)))
            y = torch.cat((torch.ones(len(threes), 1), torch.zeros(len(sevens), 1)))
            return x, y

        def linear1(xb, weights, bias):
            return torch.matmul(xb, weights) + bias
        """,
        """
        import torch

        def make_dataset(threes, sevens):
            x = torch.vstack([threes.flatten(1), sevens.flatten(1)])
            y = torch.tensor([[1.0]] * len(threes) + [[0.0]] * len(sevens))
            return x, y

        def linear1(xb, weights, bias):
            return torch.addmm(bias, xb, weights)
        """,
    ],
    "mnist_loss": [
        """
        def mnist_loss(predictions, targets):
            p = 1 / (1 + (-predictions).exp())
            return (targets * (1 - p) + (1 - targets) * p).mean()
        """,
        """
        import torch

        def mnist_loss(predictions, targets):
            p = torch.sigmoid(predictions)
            return torch.mean(torch.abs(targets - p))
        """,
    ],
    "calc_grad": [
        """
        def calc_grad(xb, yb, model, loss_func):
            loss_func(model(xb), yb).backward()
        """,
        """
        import torch

        def calc_grad(xb, yb, model, loss_func):
            loss = loss_func(model(xb), yb)
            torch.autograd.backward(loss)
        """,
    ],
    "train_epoch": [
        """
        import torch

        def train_epoch(model, dl, lr, params, loss_func):
            for xb, yb in dl:
                loss_func(model(xb), yb).backward()
                with torch.no_grad():
                    for p in params:
                        p -= lr * p.grad
                        p.grad = None
        """,
        """
        import torch

        def train_epoch(model, dl, lr, params, loss_func):
            for xb, yb in dl:
                loss = loss_func(model(xb), yb)
                grads = torch.autograd.grad(loss, params)
                with torch.no_grad():
                    for p, g in zip(params, grads):
                        p.sub_(lr * g)
        """,
    ],
    "batch_accuracy": [
        """
        def batch_accuracy(xb_preds, yb):
            return ((xb_preds > 0).float() == yb).float().mean()
        """,
        """
        import torch

        def batch_accuracy(xb_preds, yb):
            predicted = torch.where(torch.sigmoid(xb_preds) > 0.5, 1.0, 0.0)
            return (predicted == yb).sum() / torch.tensor(float(len(yb)))
        """,
    ],
    "validate_epoch": [
        """
        import torch

        def validate_epoch(model, valid_dl, metric):
            with torch.no_grad():
                accs = [metric(model(xb), yb).item() for xb, yb in valid_dl]
            return round(sum(accs) / len(accs), 4)
        """,
        """
        import torch

        def validate_epoch(model, valid_dl, metric):
            correct, total = 0.0, 0
            with torch.no_grad():
                for xb, yb in valid_dl:
                    correct += metric(model(xb), yb).item() * len(xb)
                    total += len(xb)
            return correct / total
        """,
    ],
    "basic_optim": [
        """
        import torch

        class BasicOptim:
            def __init__(self, params, lr):
                self.params, self.lr = [p for p in params], lr

            @torch.no_grad()
            def step(self, *args, **kwargs):
                for p in self.params:
                    p.add_(p.grad, alpha=-self.lr)

            def zero_grad(self, *args, **kwargs):
                for p in self.params:
                    if p.grad is not None:
                        p.grad.zero_()
        """,
        """
        import torch

        class BasicOptim:
            def __init__(self, params, lr):
                self.params = list(params)
                self.lr = lr

            def step(self, *args, **kwargs):
                with torch.no_grad():
                    for p in self.params:
                        p.copy_(p - self.lr * p.grad)

            def zero_grad(self, *args, **kwargs):
                for p in self.params:
                    p.grad = None
        """,
    ],
    "train_model": [
        """
        import torch
        from torch import nn

        def new_model_and_opt(lr, opt_func):
            model = nn.Linear(784, 1)
            return model, opt_func(list(model.parameters()), lr=lr)

        def train_model(model, dl, valid_dl, opt, epochs, loss_func, metric):
            history = []
            for epoch in range(epochs):
                for xb, yb in dl:
                    opt.zero_grad()
                    loss_func(model(xb), yb).backward()
                    opt.step()
                with torch.no_grad():
                    scores = torch.tensor([metric(model(xb), yb).item() for xb, yb in valid_dl])
                history.append(round(scores.mean().item(), 4))
            return history
        """,
        """
        import torch
        from torch import nn

        def new_model_and_opt(lr, opt_func):
            model = nn.Sequential(nn.Linear(28 * 28, 1))
            opt = opt_func(model.parameters(), lr)
            return (model, opt)

        def one_epoch(model, dl, opt, loss_func):
            for xb, yb in dl:
                loss = loss_func(model(xb), yb)
                loss.backward()
                opt.step()
                opt.zero_grad()

        def train_model(model, dl, valid_dl, opt, epochs, loss_func, metric):
            accs = []
            for _ in range(epochs):
                one_epoch(model, dl, opt, loss_func)
                batch = [metric(model(xb), yb) for xb, yb in valid_dl]
                accs.append(round(float(sum(batch) / len(batch)), 4))
            return accs
        """,
    ],
    "simple_net": [
        """
        import torch.nn.functional as F
        from torch import nn

        def simple_net(xb, w1, b1, w2, b2):
            return F.relu(xb @ w1 + b1) @ w2 + b2

        def simple_net_module(n_hidden=30):
            layers = [nn.Linear(784, n_hidden), nn.ReLU(), nn.Linear(n_hidden, 1)]
            return nn.Sequential(*layers)
        """,
        """
        import torch
        from torch import nn

        def simple_net(xb, w1, b1, w2, b2):
            hidden = (xb @ w1 + b1).clamp(min=0)
            return hidden @ w2 + b2

        class TwoLayer(nn.Module):
            def __init__(self, n_hidden):
                super().__init__()
                self.one, self.two = nn.Linear(784, n_hidden), nn.Linear(n_hidden, 1)

            def forward(self, x):
                return self.two(torch.relu(self.one(x)))

        def simple_net_module(n_hidden=30):
            return TwoLayer(n_hidden)
        """,
    ],
    "learner": [
        """
        from fastai.learner import Learner
        from fastai.optimizer import SGD

        def make_learner(dls, model, loss_func, metric):
            learn = Learner(dls, model, loss_func=loss_func, opt_func=SGD, metrics=[metric])
            return learn
        """,
        """
        from fastai.vision.all import SGD, Learner

        def make_learner(dls, model, loss_func, metric):
            return Learner(dls=dls, model=model, opt_func=SGD, loss_func=loss_func, metrics=metric)
        """,
    ],
    "resnet18": [
        """
        from fastai.vision.all import CrossEntropyLossFlat, accuracy, resnet18, vision_learner

        def make_resnet_learner(dls):
            return vision_learner(dls, resnet18, pretrained=False, loss_func=CrossEntropyLossFlat(),
                                  metrics=[accuracy])
        """,
        """
        from fastai.vision.all import F, accuracy, cnn_learner, resnet18
        import warnings

        def make_resnet_learner(dls):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return cnn_learner(dls, resnet18, pretrained=False, loss_func=F.cross_entropy,
                                   metrics=accuracy)
        """,
        """
        from fastai.vision.all import Adam, F, accuracy, resnet18, vision_learner

        def make_resnet_learner(dls):  # fastai's defaults, spelled out
            return vision_learner(dls, resnet18, pretrained=False, loss_func=F.cross_entropy,
                                  metrics=accuracy, opt_func=Adam, wd=0.01)
        """,
    ],
}

CASES = [(step, n, body) for step, bodies in ALTERNATIVES.items() for n, body in enumerate(bodies, 1)]


@pytest.mark.parametrize(("step", "n", "body"), CASES, ids=[f"{s}-{n}" for s, n, _ in CASES])
def test_alternative_correct_implementation_gets_full_marks(warm_service, tmp_path, step, n, body):
    folder = replace_body(tmp_path, step, body)
    results, tests = grade_step(folder, step, service=warm_service)
    assert tests, f"no checks ran for {step}"
    failing = [f"{t.name}: {t.output}" for t in tests if t.status == "failed"]
    assert not failing
    assert results.score == results.max_score
