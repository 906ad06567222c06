"""Checks for step resnet18."""

import torch

from grader.engine.checks.base import Context, Fail, check, trained
from grader.engine.recipes import chapter

STEP = "resnet18"


@check(STEP, "make_resnet_learner builds a ResNet-18 with 2 outputs from random weights", 2, timeout=120)
def builds(ctx: Context):
    from fastai.learner import Learner

    dls = chapter.resnet_dls(ctx.data_path, "cpu", ctx.seed)
    learn = ctx.learner.make_resnet_learner(dls)
    if not isinstance(learn, Learner):
        raise Fail(f"make_resnet_learner returned a {type(learn).__name__}, expected a fastai Learner")
    n = sum(p.numel() for p in learn.model[0].parameters())
    if not 11_000_000 < n < 11_300_000:
        raise Fail(f"the body has {n:,} parameters; resnet18's has about 11.2 million")
    xb, _ = dls.one_batch()
    learn.model.eval()
    with torch.no_grad():
        out = learn.model(xb[:2].cpu())
    if tuple(out.shape) != (2, 2):
        raise Fail(f"the model gives shape {tuple(out.shape)} for 2 images, expected (2, 2): one per class")


@check(STEP, "fit_one_cycle(2, 0.01) reaches the accuracy threshold", 6, trains=True, timeout=420)
def trains(ctx: Context):
    from fastai.torch_core import set_seed

    dev = ctx.device.type

    def run(make):
        set_seed(ctx.seed, reproducible=True)
        return chapter.resnet(make, ctx.data_path, dev, ctx.seed, ctx.progress)

    return trained(ctx, lambda: run(ctx.learner.make_resnet_learner), lambda: run(ctx.ref.make_resnet_learner))
