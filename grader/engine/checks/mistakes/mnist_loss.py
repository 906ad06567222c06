"""The mistakes learners make in mnist_loss(predictions, targets)."""

import torch
import torch.nn.functional as F

from grader.engine.checks.base import loss_and_gradient
from grader.engine.checks.mistakes import BCE_FORUM, BOOK, CUT_GRAPH, KIT_SUMMARY, LESSON3_FORUM, SOFTMAX_CE_QA
from grader.engine.checks.mnist_loss import BROADCAST, NO_SIGMOID, SUM, SWAPPED, TWICE
from grader.engine.diagnosis import mistake

DETACHED = "the result was detached (.detach(), .data, .item() or a new tensor): backward() has no graph to follow"
BCE = ("that is binary cross-entropy (-log p for a 3, -log(1 - p) for a 7): the chapter's mnist_loss is the distance "
       "from the target, 1 - p for a 3 and p for a 7, averaged")
BCE_ON_PROBS = ("binary_cross_entropy_with_logits was given probabilities: it applies the sigmoid itself; and it is "
                "binary cross-entropy, where the chapter asks for 1 - p for a 3 and p for a 7")
MSE = "that is the mean squared error of the probabilities: the chapter's loss takes 1 - p for a 3 and p for a 7"
ONE_AXIS = "the mean runs over dim 0 only, leaving shape (1,): take .mean() of everything, one number"
THRESHOLDED = ("the loss counts p > 0.5, an accuracy: its gradient is zero almost everywhere, so nothing learns from "
               "it; the loss uses the probabilities themselves")
SIGN_FLIPPED = "the sigmoid is written 1 / (1 + exp(x)), which is sigmoid(-x): the sigmoid is 1 / (1 + exp(-x))"
SOFTMAX_ONE = "softmax over a single column is 1 for every item: one logit per image is squashed with the sigmoid"


def chapter(p, t):
    return torch.where(t == 1, 1 - p, p).mean()


MISTAKES = [
    mistake(NO_SIGMOID, f"{BOOK}: its first mnist_loss, before the sigmoid is added", mnist_loss=chapter),
    mistake(NO_SIGMOID, f"{BOOK}: the first loss, written as a distance", mnist_loss=lambda x, t: (t - x).abs().mean()),
    mistake(TWICE, f"{LESSON3_FORUM} (the sigmoid inside the loss and again in the model)",
            mnist_loss=lambda x, t: chapter(x.sigmoid().sigmoid(), t)),
    mistake(SWAPPED, BCE_FORUM, mnist_loss=lambda x, t: torch.where(t == 1, x.sigmoid(), 1 - x.sigmoid()).mean()),
    mistake(SIGN_FLIPPED, f"{KIT_SUMMARY}: a sigmoid written by hand",
            mnist_loss=lambda x, t: chapter(1 / (1 + x.exp()), t)),
    mistake(BROADCAST, KIT_SUMMARY, mnist_loss=lambda x, t: chapter(x.sigmoid().view(-1), t)),
    mistake(BROADCAST, KIT_SUMMARY, mnist_loss=lambda x, t: chapter(x.sigmoid(), t.view(-1))),
    mistake(SUM, BOOK + " (the loss is a mean of the batch)",
            mnist_loss=lambda x, t: torch.where(t == 1, 1 - x.sigmoid(), x.sigmoid()).sum()),
    mistake(BCE, BCE_FORUM, mnist_loss=lambda x, t: F.binary_cross_entropy_with_logits(x, t)),
    mistake(BCE_ON_PROBS, SOFTMAX_CE_QA, mnist_loss=lambda x, t: F.binary_cross_entropy_with_logits(x.sigmoid(), t)),
    mistake(MSE, SOFTMAX_CE_QA, mnist_loss=lambda x, t: ((x.sigmoid() - t) ** 2).mean()),
    mistake(ONE_AXIS, KIT_SUMMARY, mnist_loss=lambda x, t: torch.where(t == 1, 1 - x.sigmoid(), x.sigmoid()).mean(0)),
    mistake(THRESHOLDED, f"{BOOK} (why accuracy is no loss); {LESSON3_FORUM}",
            mnist_loss=lambda x, t: chapter((x.sigmoid() > 0.5).float(), t)),
    mistake(DETACHED, CUT_GRAPH, mnist_loss=lambda x, t: chapter(x.sigmoid(), t).detach()),
    mistake(SOFTMAX_ONE, SOFTMAX_CE_QA, mnist_loss=lambda x, t: chapter(torch.softmax(x, dim=1), t)),
]


def inputs(seed: int, bs: int):
    gen = torch.Generator().manual_seed(seed + bs)
    return torch.randn(bs, 1, generator=gen) * 3, torch.randint(0, 2, (bs, 1), generator=gen).float()


MORE = {
    "mnist_loss": lambda seed, given: [("mnist_loss", inputs(seed, 7)), ("mnist_loss", inputs(seed, 33))],
    "base.loss_and_gradient": lambda seed, given: [(loss_and_gradient, ("mnist_loss", *inputs(seed, 9)))],
}
