"""The parts the kit plugs a step's code into: a loss, a metric, an optimizer, a model, a loop.

A check of one step must not depend on the learner's other steps, so the kit supplies them.
These run inside the sandbox (grader/engine/observer.py), where the reference solutions are
never present, and beside the reference in the judge, so both runs are fed alike. They are
the chapter's definitions, short enough to write out (PyTorch's building blocks where that costs
nothing: F.cross_entropy).
"""

import torch
import torch.nn.functional as F
from torch import nn


def linear1(xb, weights, bias):
    return xb @ weights + bias


def init_params(size, std=1.0):
    return (torch.randn(size) * std).requires_grad_()


def mnist_loss(predictions, targets):
    p = predictions.sigmoid()
    return torch.where(targets == 1, 1 - p, p).mean()


def batch_accuracy(xb, yb):
    return ((xb > 0) == yb).float().mean()


class SGD:
    """Plain SGD with BasicOptim's interface (params, lr, step, zero_grad). Not torch.optim.SGD:
    its first step imports torch._dynamo, a second or more on every grade."""

    def __init__(self, params, lr):
        self.params, self.lr = list(params), lr

    def step(self, *args, **kwargs):
        for p in self.params:
            if p.grad is not None:  # as torch.optim does: a parameter without a gradient stays
                p.data -= p.grad.data * self.lr

    def zero_grad(self, *args, **kwargs):
        for p in self.params:
            p.grad = None


def simple_net_module(n_hidden=30):
    return nn.Sequential(nn.Linear(28 * 28, n_hidden), nn.ReLU(), nn.Linear(n_hidden, 1))


def cross_entropy(logits, targets):
    return F.cross_entropy(logits, targets)


def multiclass_accuracy(logits, targets):
    return (logits.argmax(dim=1) == targets).float().mean()


def fit(model, dl, epochs, loss_func, opt):
    """The chapter's loop: for every batch, loss, backward, step, zero_grad."""
    for _ in range(epochs):
        for xb, yb in dl:
            loss_func(model(xb), yb).backward()
            opt.step()
            opt.zero_grad()


def fit10(model, params, dl, valid_dl, lr, epochs, loss_func, metric):
    """fit10's contract (multiclass_linear) with plain SGD on `params`."""
    fit(model, dl, epochs, loss_func, SGD(params, lr))
    return []
