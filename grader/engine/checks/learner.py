"""Checks for step learner."""

from pathlib import Path

import torch
from torch import nn

from grader.engine import data as data_sources
from grader.engine import drivers
from grader.engine.checks.base import Context, Fail, check, probe, training_check
from grader.engine.recipes.chapter import binary_digits, fit_fastai, loaders, prediction_recorder, quiet

STEP = "learner"


@probe
def built(module, path, preds, targets):
    """make_learner's Learner: its type, its loss and metric applied to `preds` and `targets`
    (they must be the ones passed in), and the name of its optimizer function."""
    from fastai.data.core import DataLoaders
    from fastai.learner import Learner

    dl, valid_dl = data_sources.make_loaders(Path(path), fastai=True)
    learn = module.make_learner(DataLoaders(dl, valid_dl), nn.Linear(784, 1), drivers.mnist_loss,
                                drivers.batch_accuracy)
    if not isinstance(learn, Learner):
        return {"type": type(learn).__name__}
    metrics = [m.func(preds, targets) for m in learn.metrics if getattr(m, "func", None) is not None]
    opt = learn.opt_func
    return {
        "type": "Learner",
        "loss": learn.loss_func(preds, targets) if callable(learn.loss_func) else None,
        "metrics": metrics,
        "opt_func": f"{getattr(opt, '__module__', '')}.{getattr(opt, '__name__', type(opt).__name__)}",
    }


@check(STEP, "make_learner builds a Learner with SGD, your loss and your metric", 1)
def builds(ctx: Context):
    preds, targets = torch.randn(12, 1) * 2, torch.randint(0, 2, (12, 1)).float()
    got = ctx.learner.observe(built, str(ctx.data_path), preds, targets)
    if got.get("type") != "Learner":
        raise Fail(f"make_learner returned a {got.get('type')}, expected a fastai Learner")
    loss = got.get("loss")
    if not isinstance(loss, torch.Tensor) or not torch.allclose(loss, drivers.mnist_loss(preds, targets)):
        raise Fail("the Learner's loss_func is not the loss_func passed in")
    want = drivers.batch_accuracy(preds, targets)
    if not any(isinstance(m, torch.Tensor) and torch.allclose(m.float(), want) for m in got.get("metrics") or []):
        raise Fail("the metric passed in is not among the Learner's metrics")
    if got.get("opt_func") != "fastai.optimizer.SGD":
        raise Fail(f"opt_func is {got.get('opt_func')}, expected fastai's SGD (fastai's default is Adam)")


@training_check(STEP, "fit({epochs}, lr={lr}) reaches the accuracy threshold", 5)
def recipe(module, path, device="cpu", progress=quiet):
    """Section "Creating an Optimizer": the step's Learner on nn.Linear, fit(epochs, lr=lr)."""
    from fastai.data.core import DataLoaders

    s, dl, valid_dl, _ = loaders(path, "learner", device, fastai=True)
    dls = DataLoaders(dl, valid_dl, device=torch.device(device))
    model = nn.Linear(28 * 28, 1).to(device)
    learn = module.make_learner(dls, model, drivers.mnist_loss, drivers.batch_accuracy)
    record = prediction_recorder(progress, s.epochs, binary_digits)
    return fit_fastai(learn, lambda: learn.fit(s.epochs, lr=s.lr), record)
