"""The mistakes learners make in softmax(logits), cross_entropy(logits, targets) and multiclass_accuracy."""

import torch
import torch.nn.functional as F

from grader.engine.checks.base import loss_and_gradient
from grader.engine.checks.mistakes import CE_BY_HAND, KIT_SUMMARY, SOFTMAX_CE_QA
from grader.engine.checks.softmax import (
    ALL_TARGETS,
    BATCH_MAX,
    LOG_OF_SOFTMAX,
    NO_EXP,
    NO_LOG,
    NO_MAX,
    NO_MINUS,
    NO_SOFTMAX,
    ON_PROBS,
    SIGMOID,
    SUM,
    WHOLE,
    WRONG_DIM,
)
from grader.engine.diagnosis import mistake

CHAPTER5 = "fastai/fastbook clean/05_pet_breeds.ipynb (softmax and cross-entropy by hand)"
ARGMAX_DIM = "argmax runs over the batch (dim 0): each row's largest logit is argmax(dim=1)"
NO_KEEPDIM = ("the row sums lose their axis (keepdim=True is missing), so they do not line up with the rows they "
              "divide: sum(dim=-1, keepdim=True)")
NO_FLOAT = "the booleans are averaged as they are: .float().mean()"
COUNTED = "the right rows are counted (.sum()): the accuracy is their share (.mean())"


def shifted(x):
    return x - x.max(dim=-1, keepdim=True).values


def log_softmax(x):
    return x - torch.logsumexp(x, dim=-1, keepdim=True)


def picked(values, t):
    return values[torch.arange(len(t)), t]


MISTAKES = [
    mistake(WRONG_DIM, CHAPTER5, softmax=lambda x: shifted(x).exp() / shifted(x).exp().sum(dim=0, keepdim=True)),
    mistake(WRONG_DIM, CHAPTER5, softmax=lambda x: x.exp() / x.exp().sum(dim=0, keepdim=True)),
    mistake(WHOLE, CHAPTER5, softmax=lambda x: shifted(x).exp() / shifted(x).exp().sum()),
    mistake(WHOLE, CHAPTER5, softmax=lambda x: x.exp() / x.exp().sum()),
    mistake(NO_KEEPDIM, CHAPTER5, softmax=lambda x: shifted(x).exp() / shifted(x).exp().sum(dim=-1)),
    mistake(NO_KEEPDIM, CHAPTER5, softmax=lambda x: x.exp() / x.exp().sum(dim=-1)),
    mistake(NO_EXP, KIT_SUMMARY, softmax=lambda x: x / x.sum(dim=-1, keepdim=True)),
    mistake(SIGMOID, KIT_SUMMARY, softmax=lambda x: x.sigmoid()),
    mistake(NO_MAX, CHAPTER5, softmax=lambda x: x.exp() / x.exp().sum(dim=-1, keepdim=True)),
    mistake(BATCH_MAX, CHAPTER5, softmax=lambda x: (x - x.max()).exp() / (x - x.max()).exp().sum(dim=-1, keepdim=True)),
    mistake(NO_MINUS, CE_BY_HAND, cross_entropy=lambda x, t: picked(log_softmax(x), t).mean()),
    mistake(ALL_TARGETS, CHAPTER5, cross_entropy=lambda x, t: -log_softmax(x)[:, t].mean()),
    mistake(ON_PROBS, SOFTMAX_CE_QA, cross_entropy=lambda x, t: F.cross_entropy(torch.softmax(x, dim=-1), t)),
    mistake(NO_LOG, CE_BY_HAND, cross_entropy=lambda x, t: -picked(torch.softmax(x, dim=-1), t).mean()),
    mistake(NO_SOFTMAX, CE_BY_HAND, cross_entropy=lambda x, t: -picked(x, t).mean()),
    mistake(SUM, CHAPTER5, cross_entropy=lambda x, t: -picked(log_softmax(x), t).sum()),
    mistake(LOG_OF_SOFTMAX, CHAPTER5, cross_entropy=lambda x, t: -picked(torch.softmax(x, dim=-1).log(), t).mean()),
    mistake(ARGMAX_DIM, CHAPTER5, multiclass_accuracy=lambda x, t: (x.argmax(dim=0) == t).float().mean()),
    mistake(NO_FLOAT, CHAPTER5, multiclass_accuracy=lambda x, t: (x.argmax(dim=1) == t).mean()),
    mistake(COUNTED, CHAPTER5, multiclass_accuracy=lambda x, t: (x.argmax(dim=1) == t).float().sum()),
]


def logits(seed: int, bs: int, classes: int = 10):
    gen = torch.Generator().manual_seed(seed + bs)
    return torch.randn(bs, classes, generator=gen) * 2, torch.randint(0, classes, (bs,), generator=gen)


MORE = {
    "softmax": lambda seed, given: [("softmax", (logits(seed, 4)[0],))],
    "base.loss_and_gradient": lambda seed, given: [(loss_and_gradient, ("cross_entropy", *logits(seed, 6)))],
    "cross_entropy": lambda seed, given: [("cross_entropy", logits(seed, 6))],
}
