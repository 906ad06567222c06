"""Checks for step validate_epoch."""

import torch
from torch import nn

from grader.engine import data as data_sources
from grader.engine.checks.base import Context, Fail, check

STEP = "validate_epoch"


def setup(ctx: Context):
    from torch.utils.data import DataLoader

    x, y = data_sources.load_xy(ctx.data_path, "valid")
    model = nn.Linear(784, 1)
    return model, DataLoader(list(zip(x, y)), batch_size=64)


@check(STEP, "its value matches the reference (mean of the batch accuracies)", 4)
def value(ctx: Context):
    model, valid_dl = setup(ctx)
    metric = ctx.ref_module("batch_accuracy").batch_accuracy
    got = ctx.learner.validate_epoch(model, valid_dl, metric)
    if isinstance(got, torch.Tensor) and got.numel() == 1:
        got = got.item()  # a tensor costs the next check's points, not this one's
    if not isinstance(got, int | float):
        raise Fail(f"validate_epoch returned {type(got).__name__}, expected a number")
    with torch.no_grad():
        per_batch = ctx.ref.validate_epoch(model, valid_dl, metric)
        preds = model(torch.stack([x for x, _ in valid_dl.dataset]))
        ys = torch.stack([y for _, y in valid_dl.dataset])
        overall = metric(preds, ys).item()
    # The chapter averages the per-batch accuracies; the accuracy over all items is fine too.
    if min(abs(got - per_batch), abs(got - overall)) > 1e-4:
        raise Fail(f"validate_epoch gave {got:.4f}, the reference {per_batch:.4f}")


@check(STEP, "returns a Python float, not a tensor", 2)
def returns_float(ctx: Context):
    model, valid_dl = setup(ctx)
    got = ctx.learner.validate_epoch(model, valid_dl, ctx.ref_module("batch_accuracy").batch_accuracy)
    if isinstance(got, torch.Tensor):
        raise Fail(
            "validate_epoch returned a tensor",
            mistake="the result is still a tensor: turn it into a float with .item() (and round it)",
        )
    if not isinstance(got, float):
        raise Fail(f"validate_epoch returned {type(got).__name__}, expected float")
