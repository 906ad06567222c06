"""Checks for step pixel_similarity: mnist_distance, is_3 and the baseline's accuracy."""

from pathlib import Path

import torch

from grader.engine import data as data_sources
from grader.engine.checks.base import Context, Fail, check, expect_tensor, trained, training_check
from grader.engine.recipes.chapter import quiet

STEP = "pixel_similarity"
RMSE = "that is the RMSE; this step uses the mean absolute difference (L1 norm)"
NO_ABS = "the differences are not made absolute (.abs()), so positive and negative ones cancel"
SUMMED = "the differences are summed: take their mean, so the distance does not grow with the image size"
ALL_AXES = "the mean runs over every axis: use .mean((-1, -2)) so a stack gives one distance per image"


def distance_variants(a, b):
    return {
        RMSE: ((a - b) ** 2).mean((-1, -2)).sqrt(),
        NO_ABS: (a - b).mean((-1, -2)),
        ALL_AXES: (a - b).abs().mean(),
        SUMMED: (a - b).abs().sum((-1, -2)),
    }


@check(STEP, "mnist_distance of two fixed images", 2)
def distance_fixed(ctx: Context):
    a = torch.zeros(28, 28)
    b = torch.zeros(28, 28)
    b[:14] = 0.5  # half the pixels differ by 0.5
    b[14:, :7] = -1.0  # a quarter of the rest by 1.0
    got = ctx.learner.mnist_distance(a, b)
    expect_tensor(got, ctx.ref.mnist_distance(a, b), "mnist_distance(a, b)", distance_variants(a, b),
                  given="a: 28x28 zeros; b: top half 0.5, a quarter of the bottom half -1.0, the rest 0")


@check(STEP, "mnist_distance broadcasts over a stack of images", 2)
def distance_broadcast(ctx: Context):
    stacks = data_sources.load_stacks(ctx.view.source)
    stack, mean3 = stacks["train7"][:7], stacks["train3"].mean(0)  # training digits: the validation labels stay hidden
    got = ctx.learner.mnist_distance(stack, mean3)
    want = ctx.ref.mnist_distance(stack, mean3)
    expect_tensor(got, want, "mnist_distance(stack of 7, mean3)", distance_variants(stack, mean3),
                  given="7 training sevens, shape (7, 28, 28), against the mean three, shape (28, 28)")


@check(STEP, "is_3 on real digits", 1)
def is_3_values(ctx: Context):
    stacks = data_sources.load_stacks(ctx.view.source)
    mean3, mean7 = stacks["train3"].mean(0), stacks["train7"].mean(0)
    x = torch.cat([stacks["train3"][-20:], stacks["train7"][-20:]])  # never a validation digit with its label
    got = ctx.learner.is_3(x, mean3, mean7)
    want = ctx.ref.is_3(x, mean3, mean7)
    if isinstance(got, torch.Tensor) and got.shape == want.shape and torch.equal(got.bool(), ~want):
        raise Fail("is_3 says 7 where it should say 3", mistake="the comparison is reversed: a 3 is closer to mean3")
    expect_tensor(torch.as_tensor(got).float(), want.float(), "is_3(20 threes and 20 sevens)")


@training_check(STEP, "baseline accuracy on the validation digits", 3,
                run=lambda ctx, recipe: trained(ctx, recipe, ctx.device.type, balanced=True))
def recipe(module, path, device="cpu", progress=quiet) -> list[torch.Tensor]:
    """The mean-image baseline: is_3 on every validation image at once."""
    stacks = {k: v.to(device) for k, v in data_sources.load_stacks(Path(path)).items()}
    mean3, mean7 = stacks["train3"].mean(0), stacks["train7"].mean(0)
    valid = torch.cat([stacks["valid3"], stacks["valid7"]])
    answers = module.is_3(valid, mean3, mean7)
    if not isinstance(answers, torch.Tensor) or tuple(answers.shape) != (len(valid),):
        shape = tuple(answers.shape) if isinstance(answers, torch.Tensor) else type(answers).__name__
        raise TypeError(
            f"is_3 on a stack of {len(valid)} images returned {shape}, not one answer per image "
            f"({len(valid)},): does mnist_distance average over the last two axes only?"
        )
    digits = torch.where(answers.bool().cpu(), 3, 7)
    progress(1, 1, digits)
    return {"epochs": [digits], "final": answers.detach().float().cpu()}
