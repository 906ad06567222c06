"""Checks for step batch_accuracy."""

import torch

from grader.engine.checks.base import Context, Fail, as_tensor, check, expect_tensor, same

STEP = "batch_accuracy"
AT_HALF = "the logits are compared with 0.5: take the sigmoid first (or compare logits with 0)"
TWICE = "the sigmoid is applied twice"
COUNTED = "the right answers are counted (.sum()): the accuracy is their share (.mean())"
AT_ZERO_AFTER_SIGMOID = "the sigmoid is compared with 0: a probability is always above 0, so compare it with 0.5"


def variants(preds, yb):
    return {
        AT_HALF: ((preds > 0.5) == yb).float().mean(),
        TWICE: ((preds.sigmoid().sigmoid() > 0.5) == yb).float().mean(),
        COUNTED: ((preds.sigmoid() > 0.5) == yb).float().sum(),
        AT_ZERO_AFTER_SIGMOID: ((preds.sigmoid() > 0) == yb).float().mean(),
    }


def expect_accuracy(got, preds, yb, want, what: str) -> None:
    """expect_tensor, and where no single mistake explains a wrong value, say what it looks like:
    every item counted as a 3 (two mistakes above do exactly that)."""
    try:
        expect_tensor(got, want, what, variants(preds, yb))
    except Fail as verdict:
        if verdict.mistake is None and same(got, (yb == 1).float().mean()):
            raise Fail(f"{what} is the share of threes in the batch: every item is counted as a 3, "
                       "whatever its logit") from None
        raise


@check(STEP, "logits near the decision boundary", 3)
def boundary(ctx: Context):
    preds = torch.tensor([[2.0], [0.3], [0.1], [-0.2], [-3.0], [0.4]])
    yb = torch.tensor([[1.0], [1.0], [1.0], [0.0], [0.0], [0.0]])
    got = ctx.learner.batch_accuracy(preds, yb)
    expect_accuracy(as_tensor(got, "batch_accuracy").float(), preds, yb, torch.tensor(5 / 6), "batch_accuracy")


@check(STEP, "matches the reference on random batches", 2)
def random_batches(ctx: Context):
    for bs in (1, 9, 256):
        preds = torch.randn(bs, 1) * 2
        yb = torch.randint(0, 2, (bs, 1)).float()
        got = as_tensor(ctx.learner.batch_accuracy(preds, yb), "batch_accuracy").float()
        expect_accuracy(got, preds, yb, ctx.ref.batch_accuracy(preds, yb), f"batch_accuracy on {bs} items")


@check(STEP, "returns a float scalar tensor", 1)
def scalar(ctx: Context):
    got = as_tensor(ctx.learner.batch_accuracy(torch.randn(4, 1), torch.ones(4, 1)), "batch_accuracy")
    if got.dim() != 0 or not got.is_floating_point():
        raise Fail(f"got shape {tuple(got.shape)} and dtype {got.dtype}: return .float().mean()")
