"""The mistakes learners make in batch_accuracy(xb_preds, yb)."""

import torch

from grader.engine.checks.batch_accuracy import AT_HALF, AT_ZERO_AFTER_SIGMOID, COUNTED, TWICE
from grader.engine.checks.mistakes import BOOK, KIT_SUMMARY, LESSON3_FORUM, THRESHOLD_ERRATUM, THRESHOLD_FORUM
from grader.engine.diagnosis import mistake

NO_THRESHOLD = ("the predictions are compared with the targets as they are, with no threshold: a prediction is a 3 "
                "when its sigmoid is above 0.5")
REVERSED = "the comparison is reversed: a sigmoid above 0.5 (a logit above 0) means a 3"
BROADCAST = ("the predictions are flattened to (bs,) and compared with targets of shape (bs, 1): they broadcast "
             "into a (bs, bs) grid; keep both (bs, 1)")
ARGMAX = ("argmax over a single column is always 0: that is the ten-digit accuracy; one logit per image is "
          "compared with 0 (or its sigmoid with 0.5)")
NO_FLOAT = "the booleans are averaged as they are: turn them into numbers first, .float().mean()"
ITEM = ("batch_accuracy returns a Python number (as .item() or float() make it): it returns a tensor, which the "
        "caller stacks and averages")


def right(preds, yb):
    return (preds.sigmoid() > 0.5) == yb


MISTAKES = [
    mistake(AT_HALF, f"{THRESHOLD_ERRATUM}; {THRESHOLD_FORUM}",
            batch_accuracy=lambda x, y: ((x > 0.5) == y).float().mean()),
    mistake(TWICE, LESSON3_FORUM, batch_accuracy=lambda x, y: right(x.sigmoid(), y).float().mean()),
    mistake(COUNTED, KIT_SUMMARY, batch_accuracy=lambda x, y: right(x, y).float().sum()),
    mistake(AT_ZERO_AFTER_SIGMOID, LESSON3_FORUM, batch_accuracy=lambda x, y: ((x.sigmoid() > 0) == y).float().mean()),
    mistake(NO_THRESHOLD, THRESHOLD_FORUM, batch_accuracy=lambda x, y: (x.sigmoid() == y).float().mean()),
    mistake(NO_THRESHOLD, THRESHOLD_FORUM, batch_accuracy=lambda x, y: (x == y).float().mean()),
    mistake(REVERSED, THRESHOLD_FORUM, batch_accuracy=lambda x, y: ((x.sigmoid() < 0.5) == y).float().mean()),
    mistake(BROADCAST, KIT_SUMMARY, batch_accuracy=lambda x, y: ((x.sigmoid() > 0.5).view(-1) == y).float().mean()),
    mistake(ARGMAX, f"{BOOK} (chapter 5's accuracy used on one logit)",
            batch_accuracy=lambda x, y: (x.argmax(dim=1) == y).float().mean()),
    mistake(NO_FLOAT, KIT_SUMMARY, batch_accuracy=lambda x, y: right(x, y).mean()),
    mistake(ITEM, KIT_SUMMARY, batch_accuracy=lambda x, y: right(x, y).float().mean().item()),
]


def batch(seed: int, bs: int):
    gen = torch.Generator().manual_seed(seed + bs)
    return torch.randn(bs, 1, generator=gen) * 2, torch.randint(0, 2, (bs, 1), generator=gen).float()


MORE = {"batch_accuracy": lambda seed, given: [("batch_accuracy", batch(seed, n)) for n in (11, 40)]}
