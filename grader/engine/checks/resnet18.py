"""Checks for step resnet18."""

import torch

from grader.engine.checks.base import Context, Fail, check, probe, trained
from grader.engine.recipes import chapter

STEP = "resnet18"


@probe
def built(module, path, seed: int):
    """make_resnet_learner's Learner: its type, the body's parameter count, its output for 2 images."""
    from fastai.learner import Learner

    dls = chapter.resnet_dls(path, "cpu", seed)
    learn = module.make_resnet_learner(dls)
    if not isinstance(learn, Learner):
        return {"type": type(learn).__name__}
    xb, _ = dls.one_batch()
    learn.model.eval()
    with torch.no_grad():
        out = learn.model(xb[:2].cpu())
    return {"type": "Learner", "body": sum(p.numel() for p in learn.model[0].parameters()), "out": out}


@check(STEP, "make_resnet_learner builds a ResNet-18 with 2 outputs from random weights", 2, timeout=120)
def builds(ctx: Context):
    got = ctx.learner.observe(built, str(ctx.data_path), ctx.seed)
    if got.get("type") != "Learner":
        raise Fail(f"make_resnet_learner returned a {got.get('type')}, expected a fastai Learner")
    n = got.get("body")
    if not isinstance(n, int) or not 11_000_000 < n < 11_300_000:
        raise Fail(f"the body has {n if not isinstance(n, int) else format(n, ',')} parameters; "
                   "resnet18's has about 11.2 million")
    out = got.get("out")
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != (2, 2):
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise Fail(f"the model gives shape {shape} for 2 images, expected (2, 2): one per class")


SETTINGS = chapter.settings(STEP)


@check(STEP, f"fit_one_cycle({SETTINGS.epochs}, {SETTINGS.lr:g}) reaches the accuracy threshold", 6, trains=True,
       timeout=420)
def trains(ctx: Context):
    return trained(ctx, chapter.resnet, ctx.device.type, ctx.seed)
