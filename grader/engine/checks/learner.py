"""Checks for step learner."""

from torch import nn

from grader.engine import data as data_sources
from grader.engine.checks.base import Context, Fail, check, trained
from grader.engine.recipes import chapter

STEP = "learner"


@check(STEP, "make_learner builds a Learner with SGD, your loss and your metric", 1, timeout=60)
def builds(ctx: Context):
    from fastai.data.core import DataLoaders
    from fastai.learner import Learner
    from fastai.optimizer import SGD

    dl, valid_dl = data_sources.make_loaders(ctx.data_path, fastai=True)
    loss = ctx.ref_module("mnist_loss").mnist_loss
    metric = ctx.ref_module("batch_accuracy").batch_accuracy
    learn = ctx.learner.make_learner(DataLoaders(dl, valid_dl), nn.Linear(784, 1), loss, metric)
    if not isinstance(learn, Learner):
        raise Fail(f"make_learner returned a {type(learn).__name__}, expected a fastai Learner")
    if learn.loss_func is not loss:
        raise Fail("the Learner's loss_func is not the loss_func passed in")
    if not any(getattr(m, "func", None) is metric for m in learn.metrics):
        raise Fail("the metric passed in is not among the Learner's metrics")
    if learn.opt_func is not SGD:
        raise Fail(f"opt_func is {getattr(learn.opt_func, '__name__', learn.opt_func)}, expected SGD")


@check(STEP, "fit(10, lr=1.0) reaches the accuracy threshold", 5, trains=True, timeout=180)
def trains(ctx: Context):
    dev = ctx.device.type
    return trained(
        ctx,
        lambda: chapter.fastai_learner(ctx.learner.make_learner, ctx.data_path, dev, ctx.progress),
        lambda: chapter.fastai_learner(ctx.ref.make_learner, ctx.data_path, dev),
    )

