"""Checks for step validate_epoch."""

from pathlib import Path

import torch
from torch import nn

from grader.engine import data as data_sources
from grader.engine import drivers
from grader.engine.checks.base import Context, Fail, check, probe
from grader.engine.wire import type_name

STEP = "validate_epoch"


BATCH = 64


def setup(path, seed: int):
    """A seeded nn.Linear and the view's validation digits in batches of 64 (alike on both sides),
    with labels the kit sets so that the right answer stands apart from every misuse's, whatever
    order the view drew: the model's outputs are centred (half its predictions are threes), each
    label agrees with its prediction except on the first k items of batch k (so the batches'
    accuracies differ, and the last batch's, the first's and their sum are not their mean)."""
    from torch.utils.data import DataLoader

    x, _ = data_sources.load_xy(Path(path), "valid")  # the view's own labels are drawn at random
    torch.manual_seed(seed)
    model = nn.Linear(784, 1)
    with torch.no_grad():
        model.bias -= model(x).median()
        agrees = model(x) > 0
    place = torch.arange(len(x)).unsqueeze(1)
    flipped = place % BATCH < place // BATCH
    return model, DataLoader(list(zip(x, (agrees ^ flipped).float())), batch_size=BATCH)


@probe
def validated(module, path, seed: int):
    model, valid_dl = setup(path, seed)
    return module.validate_epoch(model, valid_dl, drivers.batch_accuracy)


@check(STEP, "its value matches the reference (mean of the batch accuracies)", 4)
def value(ctx: Context):
    got = ctx.learner.observe(validated, str(ctx.data_path), ctx.seed)
    if isinstance(got, torch.Tensor) and got.numel() == 1:
        got = got.item()  # a tensor costs the next check's points, not this one's
    if not isinstance(got, int | float) or isinstance(got, bool):
        raise Fail(f"validate_epoch returned {type_name(got)}, expected a number")
    model, valid_dl = setup(ctx.data_path, ctx.seed)
    with torch.no_grad():
        per_batch = validated(ctx.ref, str(ctx.data_path), ctx.seed)
        preds = model(torch.stack([x for x, _ in valid_dl.dataset]))
        ys = torch.stack([y for _, y in valid_dl.dataset])
        overall = drivers.batch_accuracy(preds, ys).item()
    # The chapter averages the per-batch accuracies; the accuracy over all items is fine too.
    if not min(abs(got - per_batch), abs(got - overall)) <= 1e-4:  # NaN fails too
        raise Fail(f"validate_epoch gave {got:.4f}, the reference {per_batch:.4f}")


@check(STEP, "returns a Python float, not a tensor", 2)
def returns_float(ctx: Context):
    got = ctx.learner.observe(validated, str(ctx.data_path), ctx.seed)
    if isinstance(got, torch.Tensor):
        raise Fail(
            "validate_epoch returned a tensor",
            mistake="the result is still a tensor: turn it into a float with .item() (and round it)",
        )
    if not isinstance(got, float):
        raise Fail(f"validate_epoch returned {type_name(got)}, expected float")
