"""The mistakes learners make in simple_net(xb, w1, b1, w2, b2) and simple_net_module(n_hidden=30)."""

import torch
from torch import nn

from grader.engine.checks.mistakes import BOOK, KIT_SUMMARY, LESSON4_FORUM, NOTES_SCRATCH, SEQUENTIAL_DOCS
from grader.engine.checks.simple_net import NO_RELU, RELU_OUT, SIGMOID_HIDDEN, SIGMOID_OUT
from grader.engine.diagnosis import mistake

NO_B1 = "b1 is not added: the hidden layer is xb @ w1 + b1"
NO_B2 = "b2 is not added: the output is res @ w2 + b2"
RELU_MOVED = "the ReLU is applied to the output instead of the hidden layer"
MAX_DIM = ("res.max(0) is a maximum over dim 0, which gives values and indices, not a ReLU: use "
           "res.max(tensor(0.0)) or res.clamp(min=0)")
CLAMP_MAX = "clamp(max=0) keeps the negative part: the ReLU is clamp(min=0)"
RELU_INPUT = "the ReLU is applied to the input images, not to the hidden layer"
UNASSIGNED = "the ReLU's result is thrown away: res.max(...) makes a new tensor, so assign it, res = res.max(...)"
FIXED_WIDTH = "n_hidden is ignored: the hidden layer has n_hidden units"
BOTTLENECK = "the first layer has one output: Linear(784, n_hidden), ReLU, Linear(n_hidden, 1)"


def scratch(hidden=lambda r: r.clamp(min=0), out=lambda r: r, before=lambda x: x, b1=True, b2=True):
    def simple_net(xb, w1, b1_, w2, b2_):
        res = before(xb) @ w1 + (b1_ if b1 else 0)
        res = hidden(res)
        return out(res @ w2 + (b2_ if b2 else 0))

    return simple_net


def net(*middle, last=(), width=None):
    def simple_net_module(n_hidden=30):
        n = width or n_hidden
        return nn.Sequential(nn.Linear(28 * 28, n), *(m() for m in middle), nn.Linear(n, 1), *(m() for m in last))

    return simple_net_module


def max_dim(res):
    return res.max(0)


MISTAKES = [
    mistake(NO_RELU, BOOK, simple_net=scratch(hidden=lambda r: r), simple_net_module=net()),
    mistake(UNASSIGNED, NOTES_SCRATCH, simple_net=scratch(hidden=lambda r: r)),
    mistake(SIGMOID_HIDDEN, NOTES_SCRATCH, simple_net=scratch(hidden=torch.sigmoid),
            simple_net_module=net(nn.Sigmoid)),
    mistake(NO_B1, KIT_SUMMARY, simple_net=scratch(b1=False)),
    mistake(NO_B2, KIT_SUMMARY, simple_net=scratch(b2=False)),
    mistake(RELU_MOVED, KIT_SUMMARY, simple_net=scratch(hidden=lambda r: r, out=lambda r: r.clamp(min=0))),
    mistake(SIGMOID_OUT, NOTES_SCRATCH, simple_net=scratch(out=torch.sigmoid),
            simple_net_module=net(nn.ReLU, last=(nn.Sigmoid,))),
    mistake(RELU_OUT, SEQUENTIAL_DOCS, simple_net=scratch(out=lambda r: r.clamp(min=0)),
            simple_net_module=net(nn.ReLU, last=(nn.ReLU,))),
    mistake(MAX_DIM, BOOK + " (res.max(tensor(0.0)))", simple_net=scratch(hidden=max_dim)),
    mistake(CLAMP_MAX, KIT_SUMMARY, simple_net=scratch(hidden=lambda r: r.clamp(max=0))),
    mistake(RELU_INPUT, KIT_SUMMARY, simple_net=scratch(hidden=lambda r: r, before=lambda x: x.clamp(min=0))),
    mistake(FIXED_WIDTH, KIT_SUMMARY, simple_net_module=net(nn.ReLU, width=30)),
    mistake(BOTTLENECK, LESSON4_FORUM, simple_net_module=net(nn.ReLU, width=1)),
]


def weights(seed: int):
    """Inputs with negative values too, so a ReLU on the input shows."""
    gen = torch.Generator().manual_seed(seed)
    return (torch.randn(5, 784, generator=gen), torch.randn(784, 30, generator=gen), torch.randn(30, generator=gen),
            torch.randn(30, 1, generator=gen), torch.randn(1, generator=gen))


MORE = {"simple_net": lambda seed, given: [("simple_net", weights(seed))]}
