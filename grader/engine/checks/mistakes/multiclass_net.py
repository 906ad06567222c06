"""The mistakes learners make in init_net10 and net10 (the ten digits' two-layer net, bonus)."""

import math

import torch

from grader.engine.checks.mistakes import BACKPROP_QA, KIT_SUMMARY, LEAF_INPLACE, NOTES_SCRATCH, SOFTMAX_CE_QA
from grader.engine.checks.multiclass_net import NO_RELU, STD_ONE
from grader.engine.diagnosis import mistake

FORGOTTEN = "requires_grad_() was forgotten"
TOO_EARLY = ("gradients were switched on (requires_grad_() or requires_grad=True) before the scaling: scale first, "
             "then call requires_grad_()")
FIXED_WIDTH = "n_hidden is ignored: the hidden layer has n_hidden units"
RELU_MOVED = "the ReLU is applied to the output instead of the hidden layer"
RELU_OUT = "a ReLU also comes after the last layer: the logits must be free to go negative"
SIGMOID_HIDDEN = "the hidden layer goes through a sigmoid: the net puts a ReLU there"
SOFTMAX_OUT = ("net10 returns probabilities (a softmax): the loss, cross-entropy, applies the softmax itself, so the "
               "net gives logits")


def init(scale=lambda fan_in: math.sqrt(2 / fan_in), grad=True, early=False, width=None):
    def init_net10(n_hidden=64, n_classes=10):
        n = width or n_hidden
        w1 = torch.randn(28 * 28, n, requires_grad=early) * scale(28 * 28)
        b1 = torch.zeros(n, requires_grad=early)
        w2 = torch.randn(n, n_classes, requires_grad=early) * scale(n)
        b2 = torch.zeros(n_classes, requires_grad=early)
        return [t.requires_grad_() if grad and not early else t for t in (w1, b1, w2, b2)]

    return init_net10


def net(hidden=lambda h: h.clamp(min=0), out=lambda o: o):
    def net10(xb, params):
        w1, b1, w2, b2 = params
        return out(hidden(xb @ w1 + b1) @ w2 + b2)

    return net10


MISTAKES = [
    mistake(FORGOTTEN, BACKPROP_QA, init_net10=init(grad=False)),
    mistake(TOO_EARLY, LEAF_INPLACE, init_net10=init(early=True)),
    mistake(STD_ONE, KIT_SUMMARY, init_net10=init(scale=lambda fan_in: 1.0)),
    mistake(FIXED_WIDTH, KIT_SUMMARY, init_net10=init(width=64)),
    mistake(NO_RELU, KIT_SUMMARY, net10=net(hidden=lambda h: h)),
    mistake(RELU_MOVED, KIT_SUMMARY, net10=net(hidden=lambda h: h, out=lambda o: o.clamp(min=0))),
    mistake(RELU_OUT, KIT_SUMMARY, net10=net(out=lambda o: o.clamp(min=0))),
    mistake(SIGMOID_HIDDEN, NOTES_SCRATCH, net10=net(hidden=torch.sigmoid)),
    mistake(SOFTMAX_OUT, SOFTMAX_CE_QA, net10=net(out=lambda o: torch.softmax(o, dim=-1))),
]


def inputs(seed: int):
    gen = torch.Generator().manual_seed(seed)
    params = [torch.randn(784, 20, generator=gen) * 0.05, torch.randn(20, generator=gen),
              torch.randn(20, 10, generator=gen) * 0.3, torch.randn(10, generator=gen)]
    return torch.rand(4, 784, generator=gen), params


MORE = {"net10": lambda seed, given: [("net10", inputs(seed))]}
