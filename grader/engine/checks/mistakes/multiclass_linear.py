"""The mistakes learners make in init_linear10, linear10 and fit10 (the ten digits, bonus)."""

import torch

from grader.engine.checks.mistakes import (
    BACKPROP_QA,
    KIT_SUMMARY,
    LEAF_INPLACE,
    LOOP_PITFALLS,
    SOFTMAX_CE_QA,
    ZERO_GRAD_QA,
)
from grader.engine.checks.multiclass_linear import NO_LR, NOT_ZEROED, ON_TRAIN, WRONG_SIGN
from grader.engine.diagnosis import mistake

FORGOTTEN = "requires_grad_() was forgotten"
TOO_EARLY = ("gradients were switched on (requires_grad_() or requires_grad=True) before the scaling: scale first, "
             "then call requires_grad_()")
NO_STD = "std is ignored"
FIXED_CLASSES = "n_classes is ignored: the weights are (784, n_classes) and the bias (n_classes,)"
NO_BIAS = "the bias is left out"
SOFTMAX_OUT = ("linear10 returns probabilities (a softmax): the loss, cross-entropy, applies the softmax itself, so "
               "the model gives logits")
SIGMOID_OUT = "linear10 squashes each logit with a sigmoid: the model gives raw logits to cross-entropy"
REBOUND = "`p = p - lr * p.grad` only makes a new tensor: the parameters never change"
ZERO_FIRST = "the gradient is cleared before the step uses it: the parameters never change"
IN_PLACE = "the update changes p in place (-=) outside torch.no_grad(): update under torch.no_grad(), or p.data"
CHAPTER5 = "fastai/fastbook clean/05_pet_breeds.ipynb"


def init(scale=lambda t, std: t * std, grad=True, early=False, fixed=False):
    def init_linear10(n_classes=10, std=0.01):
        n = 10 if fixed else n_classes
        made = [torch.randn(28 * 28, n, requires_grad=early), torch.randn(n, requires_grad=early)]
        made = [scale(t, std) for t in made]
        return tuple(t.requires_grad_() if grad and not early else t for t in made)

    return init_linear10


def fit(update, zero=True, on_train=False):
    def fit10(model, params, dl, valid_dl, lr, epochs, loss_func, metric):
        accuracies = []
        for _ in range(epochs):
            for xb, yb in dl:
                loss_func(model(xb), yb).backward()
                update(params, lr, zero)
            with torch.no_grad():
                accs = [metric(model(xb), yb) for xb, yb in (dl if on_train else valid_dl)]
            accuracies.append(round(torch.stack(accs).mean().item(), 4))
        return accuracies

    return fit10


def descend(sign=1.0, rate=True):
    def update(params, lr, zero):
        with torch.no_grad():
            for p in params:
                p -= sign * p.grad * (lr if rate else 1.0)
                if zero:
                    p.grad.zero_()

    return update


def rebound(params, lr, zero):
    for p in params:
        p = p - p.grad * lr  # noqa: PLW2901  (the mistake itself)


def zero_first(params, lr, zero):
    with torch.no_grad():
        for p in params:
            p.grad.zero_()
            p -= p.grad * lr


def in_place(params, lr, zero):
    for p in params:
        p -= p.grad * lr
        p.grad.zero_()


MISTAKES = [
    mistake(FORGOTTEN, BACKPROP_QA, init_linear10=init(grad=False)),
    mistake(TOO_EARLY, LEAF_INPLACE, init_linear10=init(early=True)),
    mistake(NO_STD, KIT_SUMMARY, init_linear10=init(scale=lambda t, std: t)),
    mistake(FIXED_CLASSES, KIT_SUMMARY, init_linear10=init(fixed=True)),
    mistake(NO_BIAS, KIT_SUMMARY, linear10=lambda xb, w, b: xb @ w),
    mistake(SOFTMAX_OUT, SOFTMAX_CE_QA, linear10=lambda xb, w, b: torch.softmax(xb @ w + b, dim=-1)),
    mistake(SIGMOID_OUT, CHAPTER5, linear10=lambda xb, w, b: (xb @ w + b).sigmoid()),
    mistake(NOT_ZEROED, ZERO_GRAD_QA, fit10=fit(descend(), zero=False)),
    mistake(WRONG_SIGN, KIT_SUMMARY, fit10=fit(descend(sign=-1.0))),
    mistake(NO_LR, KIT_SUMMARY, fit10=fit(descend(rate=False))),
    mistake(ON_TRAIN, LOOP_PITFALLS, fit10=fit(descend(), on_train=True)),
    mistake(REBOUND, LEAF_INPLACE, fit10=fit(rebound)),
    mistake(ZERO_FIRST, LOOP_PITFALLS, fit10=fit(zero_first)),
    mistake(IN_PLACE, LEAF_INPLACE, fit10=fit(in_place)),
]


def batch(seed: int, bs: int):
    gen = torch.Generator().manual_seed(seed + bs)
    return torch.rand(bs, 784, generator=gen), torch.randn(784, 10, generator=gen), torch.randn(10, generator=gen)


MORE = {"linear10": lambda seed, given: [("linear10", batch(seed, 5))]}
