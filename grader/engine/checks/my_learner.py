"""Checks for bonus step my_learner: a Learner of the learner's own, held against fastai's."""

import copy
from types import SimpleNamespace

import torch
from torch import nn

from grader.engine import data as data_sources
from grader.engine.checks.base import Context, Fail, check, same
from grader.engine.checks.planted import planted_fit
from grader.engine.checks.tenclass import trained_ten
from grader.engine.recipes import ten_digits

STEP = "my_learner"
NOT_ZEROED = "the gradients are never zeroed (opt.zero_grad() after opt.step()), so each batch adds to the last"
ON_TRAIN = "validating on the training set: the validation phase must loop over dls.valid"
NO_EVAL = "model.eval() is not called before validating: dropout keeps dropping units while you measure"
NO_TRAIN = (
    "the model is not put back in training mode (model.train()) at the start of each training phase: "
    "after the first validation it stays in eval mode and dropout stops working"
)
GRAD_ON = "validation runs with gradients on: wrap it in torch.no_grad()"


def tiny_data(ctx: Context, train_bs=8, valid_bs=10):
    """48 training and 30 validation digits (3s and 7s, mixed) as plain lists of batches."""
    x, y = data_sources.load_xy(ctx.data_path, "train")
    vx, vy = data_sources.load_xy(ctx.data_path, "valid")
    gen = torch.Generator().manual_seed(ctx.seed)
    pick, vpick = torch.randperm(len(x), generator=gen)[:48], torch.randperm(len(vx), generator=gen)[:30]
    train = [(x[pick[i:i + train_bs]], y[pick[i:i + train_bs]]) for i in range(0, 48, train_bs)]
    valid = [(vx[vpick[i:i + valid_bs]], vy[vpick[i:i + valid_bs]]) for i in range(0, 30, valid_bs)]
    return SimpleNamespace(train=train, valid=valid)


def chapter_parts(ctx: Context):
    return (ctx.ref_module("mnist_loss").mnist_loss, ctx.ref_module("basic_optim").BasicOptim,
            ctx.ref_module("batch_accuracy").batch_accuracy)


@check(STEP, "fit records one training loss, validation loss and metric per epoch", 1)
def records(ctx: Context):
    loss, opt, metric = chapter_parts(ctx)
    learn = ctx.learner.MyLearner(tiny_data(ctx), nn.Linear(784, 1), loss, opt, metric, 0.5)
    learn.fit(2)
    learn.fit(1)
    for name in ("train_losses", "valid_losses", "metrics"):
        values = getattr(learn, name, None)
        if not isinstance(values, list | tuple) or len(values) != 3:
            raise Fail(f"after fit(2) then fit(1), learn.{name} is {values!r:.80}; expected a list of 3 numbers")
        if not all(isinstance(v, float | int) for v in values):
            raise Fail(f"learn.{name} holds {type(values[0]).__name__} values: keep Python floats (.item())")


class Spy(nn.Module):
    """Notes the mode and the gradient switch of every forward pass, by batch size."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def forward(self, x):
        self.seen.append((len(x), self.training, torch.is_grad_enabled()))
        return x


@check(STEP, "training phase in train mode; validation in eval mode without gradients", 2)
def modes(ctx: Context):
    loss, opt, metric = chapter_parts(ctx)
    spy = Spy()
    model = nn.Sequential(spy, nn.Linear(784, 1), nn.Dropout(0.0))
    ctx.learner.MyLearner(tiny_data(ctx, train_bs=8, valid_bs=10), model, loss, opt, metric, 0.5).fit(2)
    train = [s for s in spy.seen if s[0] == 8]
    valid = [s for s in spy.seen if s[0] == 10]
    if len(train) != 12 or len(valid) != 6:
        raise Fail(f"fit(2) ran {len(train)} training and {len(valid)} validation batches; expected 12 and 6 "
                   "(every batch of dls.train, then every batch of dls.valid, each epoch)",
                   mistake=ON_TRAIN if not valid and len(train) > 12 else None)
    if any(training for _, training, _ in valid):
        raise Fail("the model was in training mode during validation", mistake=NO_EVAL)
    if not all(training for _, training, _ in train):
        raise Fail("the model was in eval mode during a training phase", mistake=NO_TRAIN)
    if any(grad for _, _, grad in valid):
        raise Fail("gradients were tracked during validation", mistake=GRAD_ON)


def fastai_run(ctx: Context, model, lr, epochs):
    """fastai's Learner with SGD, the chapter's loss and metric; (valid losses, metrics, params)."""
    from fastai.data.core import DataLoaders
    from fastai.learner import Learner
    from fastai.optimizer import SGD

    from grader.engine.recipes.chapter import fit_fastai

    loss, _, metric = chapter_parts(ctx)
    dls = DataLoaders(*data_sources.make_loaders(ctx.data_path, 64, ctx.device.type, fastai=True),
                      device=ctx.device)
    learn = Learner(dls, model, loss_func=loss, opt_func=SGD, metrics=metric)
    fit_fastai(learn, lambda *a: None, lambda: learn.fit(epochs, lr=lr), epochs)
    values = learn.recorder.values
    return [float(v[1]) for v in values], [float(v[2]) for v in values], flat(model)


def flat(model):
    return torch.cat([p.detach().view(-1) for p in model.parameters()])


def own_run(ctx: Context, learner_class, model, lr, epochs, opt=None, valid_on_train=False):
    from fastai.data.core import DataLoaders

    loss, basic_optim, metric = chapter_parts(ctx)
    dl, valid_dl = data_sources.make_loaders(ctx.data_path, 64, ctx.device.type, fastai=True)
    dls = DataLoaders(dl, dl if valid_on_train else valid_dl, device=ctx.device)
    learn = learner_class(dls, model, loss, opt or basic_optim, metric, lr)
    learn.fit(epochs)
    return [float(v) for v in learn.valid_losses], [float(v) for v in learn.metrics], flat(model)


def unzeroed_params(ctx: Context, model, lr, epochs):
    loss, basic_optim, _ = chapter_parts(ctx)
    dl, _ = data_sources.make_loaders(ctx.data_path, 64, ctx.device.type)
    planted_fit(model, dl, epochs, loss, opt=basic_optim(model.parameters(), lr), zero=False)
    return flat(model)


@check(STEP, "trains the chapter's models like fastai's Learner (same seed, same data)", 3, timeout=180)
def like_fastai(ctx: Context):
    from fastai.optimizer import SGD

    simple_net = ctx.ref_module("simple_net").simple_net_module
    for name, make, lr, opt in (("nn.Linear(784, 1)", lambda: nn.Linear(784, 1), 1.0, None),
                                ("the two-layer net", simple_net, 0.1, SGD)):
        torch.manual_seed(ctx.seed)
        start = make().to(ctx.device)
        want_losses, want_metrics, want_params = fastai_run(ctx, copy.deepcopy(start), lr, 3)
        losses, metrics, params = own_run(ctx, ctx.learner.MyLearner, copy.deepcopy(start), lr, 3, opt)
        if not same(params, want_params, atol=1e-4):
            if same(params, unzeroed_params(ctx, copy.deepcopy(start), lr, 3), atol=1e-4):
                raise Fail(f"{name}: the trained parameters differ from fastai's", mistake=NOT_ZEROED)
            raise Fail(f"{name}: after 3 epochs the parameters differ from those fastai's Learner trains: for every "
                       "training batch compute the loss, backward, opt.step(), opt.zero_grad()")
        if len(metrics) != 3 or len(losses) != 3:
            raise Fail(f"{name}: fit(3) recorded {len(metrics)} metrics and {len(losses)} validation losses")
        close = all(abs(a - b) < 1e-4 for a, b in zip(metrics + losses, want_metrics + want_losses))
        if not close:
            on_train = own_run(ctx, ctx.learner.MyLearner, copy.deepcopy(start), lr, 3, opt, valid_on_train=True)
            if all(abs(a - b) < 1e-6 for a, b in zip(metrics + losses, on_train[1] + on_train[0])):
                raise Fail(f"{name}: the metrics {rounded(metrics)} differ from fastai's {rounded(want_metrics)}",
                           mistake=ON_TRAIN)
            raise Fail(f"{name}: metrics {rounded(metrics)} and validation losses {rounded(losses)} differ from "
                       f"fastai's {rounded(want_metrics)} and {rounded(want_losses)}: average over all validation "
                       "items (weight each batch by its size)")


def rounded(values):
    return [round(v, 4) for v in values]


@check(STEP, "trains a 10-class net with dropout to the threshold (8 epochs, lr 0.2)", 2, trains=True,
       timeout=120)
def trains(ctx: Context):
    dev = ctx.device.type
    return trained_ten(
        ctx,
        lambda keep: ten_digits.my_learner(ctx.learner.MyLearner, ctx.seed, dev, ctx.progress, keep),
        lambda: ten_digits.my_learner(ctx.ref.MyLearner, ctx.seed, dev),
    )
