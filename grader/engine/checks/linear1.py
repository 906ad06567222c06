"""Checks for step linear1: make_dataset and linear1."""

import torch

from grader.engine import data as data_sources
from grader.engine.checks.base import Context, Fail, as_tensor, check, expect_tensor

STEP = "linear1"


@check(STEP, "make_dataset gives x (N, 784) and a column of labels y (N, 1)", 3)
def dataset(ctx: Context):
    stacks = data_sources.load_stacks(ctx.view.source)
    threes, sevens = stacks["train3"][:30], stacks["train7"][:20]
    result = ctx.learner.make_dataset(threes, sevens)
    if not isinstance(result, tuple | list) or len(result) != 2:
        raise Fail(f"make_dataset should return (x, y), got {type(result).__name__}")
    x, y = (as_tensor(v, name) for v, name in zip(result, ("x", "y")))
    want_x, want_y = ctx.ref.make_dataset(threes, sevens)
    if tuple(y.shape) == (50,):
        raise Fail(
            "y has shape (50,), expected (50, 1)",
            mistake="targets of shape (N,) against predictions of shape (bs, 1) broadcast "
            "silently to (bs, bs): add .unsqueeze(1)",
        )
    expect_tensor(x, want_x, "x")
    if same_values_reversed(y, want_y):
        raise Fail("y is 1 for sevens and 0 for threes", mistake="labels swapped: a three is 1")
    expect_tensor(y.float(), want_y, "y")


def same_values_reversed(y, want):
    return y.shape == want.shape and torch.equal(y.float(), 1 - want)


@check(STEP, "linear1 matches the reference for batches of several sizes", 3)
def linear(ctx: Context):
    for bs in (1, 7, 64):
        xb = torch.rand(bs, 784)
        w, b = torch.randn(784, 1), torch.randn(1)
        got = ctx.learner.linear1(xb, w, b)
        expect_tensor(
            got,
            ctx.ref.linear1(xb, w, b),
            f"linear1 on a batch of {bs}",
            {
                "the bias is left out": xb @ w,
                "the output goes through a sigmoid: linear1 returns logits (mnist_loss applies the sigmoid)":
                    (xb @ w + b).sigmoid(),
            },
            atol=1e-4,
        )
