"""Checks for step train_model: new_model_and_opt and the training loop."""

import copy

import torch
from torch import nn

from grader.engine import data as data_sources
from grader.engine.checks.base import Context, Fail, accuracy_list, check, same, trained
from grader.engine.checks.planted import planted_fit
from grader.engine.recipes import chapter

STEP = "train_model"
OLD_PARAMS = (
    "the optimizer holds another model's parameters: build it from the new model's "
    "model.parameters()"
)
ON_TRAIN = "validating on the training set: measure the accuracy on valid_dl"
NOT_ZEROED = "the gradients are never zeroed (opt.zero_grad() after opt.step())"


@check(STEP, "new_model_and_opt: the optimizer works on the new model", 3)
def wiring(ctx: Context):
    result = ctx.learner.new_model_and_opt(0.5, ctx.ref_module("basic_optim").BasicOptim)
    if not isinstance(result, tuple | list) or len(result) != 2:
        raise Fail("new_model_and_opt should return (model, opt)")
    model, opt = result
    if not isinstance(model, nn.Module):
        raise Fail(f"the model is a {type(model).__name__}, expected an nn.Module")
    out = model(torch.rand(3, 784))
    if tuple(out.shape) != (3, 1):
        raise Fail(f"the model turns 3 images into shape {tuple(out.shape)}, expected (3, 1)")
    if {id(p) for p in opt.params} != {id(p) for p in model.parameters()}:
        raise Fail("opt.params are not the model's parameters", mistake=OLD_PARAMS)
    if opt.lr != 0.5:
        raise Fail(f"the optimizer's lr is {opt.lr}, expected the 0.5 passed in")


def variant_loop(validate_on_train=False, zero=True):
    def train_model(model, dl, valid_dl, opt, epochs, loss_func, metric):
        return planted_fit(
            model, dl, epochs, loss_func, opt=opt, valid_dl=valid_dl, metric=metric, zero=zero,
            on_train=validate_on_train,
        )

    return train_model


def run_loop(fn, ctx: Context, model):
    """Three epochs on 48 real training digits, validated on 30 others.

    Returns the accuracies and the trained parameters (compared with the reference's).
    """
    from torch.utils.data import DataLoader

    x, y = data_sources.load_xy(ctx.data_path, "train")
    vx, vy = data_sources.load_xy(ctx.data_path, "valid")
    gen = torch.Generator().manual_seed(0)
    pick = torch.randperm(800, generator=gen)[:48]  # threes and sevens mixed
    vpick = torch.randperm(200, generator=gen)[:30]
    # Validation labels are flipped: accuracy measured on the wrong loader cannot match by chance.
    train, valid = list(zip(x[pick], y[pick])), list(zip(vx[vpick], 1 - vy[vpick]))
    model = copy.deepcopy(model)
    opt = ctx.ref_module("basic_optim").BasicOptim(model.parameters(), 1.0)
    mnist_loss = ctx.ref_module("mnist_loss").mnist_loss
    batch_accuracy = ctx.ref_module("batch_accuracy").batch_accuracy
    accs = fn(model, DataLoader(train, batch_size=8), DataLoader(valid, batch_size=10), opt, 3,
              mnist_loss, batch_accuracy)
    return accs, torch.cat([p.detach().view(-1) for p in model.parameters()])


@check(STEP, "train_model trains like the reference and returns one validation accuracy per epoch", 3)
def loop(ctx: Context):
    torch.manual_seed(ctx.seed)
    model = nn.Linear(784, 1)
    got, params = run_loop(ctx.learner.train_model, ctx, model)
    want, want_params = run_loop(ctx.ref.train_model, ctx, model)
    if not same(params, want_params, atol=1e-4):
        _, unzeroed = run_loop(variant_loop(zero=False), ctx, model)
        if same(params, unzeroed, atol=1e-4):
            raise Fail("the trained parameters differ from the reference's", mistake=NOT_ZEROED)
        raise Fail("the trained parameters differ from the reference's: check the order "
                   "loss, backward, opt.step(), opt.zero_grad() for every batch")
    got = accuracy_list(got, 3, "train_model(..., epochs=3)")
    on_train, _ = run_loop(variant_loop(validate_on_train=True), ctx, model)
    if all(abs(g - w) < 1e-3 for g, w in zip(got, on_train)) and on_train != want:
        raise Fail(f"accuracies {got} differ from the reference's {want}", mistake=ON_TRAIN)
    if any(abs(g - w) > 1e-3 for g, w in zip(got, want)):
        raise Fail(f"accuracies {got} differ from the reference's {want}")


@check(STEP, "your setup and loop train to the accuracy threshold (20 epochs)", 4, trains=True, timeout=120)
def trains(ctx: Context):
    dev = ctx.device.type
    return trained(
        ctx,
        lambda: chapter.training_loop(
            ctx.learner.new_model_and_opt, ctx.learner.train_model, ctx.data_path, dev, ctx.progress
        ),
        lambda: chapter.training_loop(
            ctx.ref.new_model_and_opt, ctx.ref.train_model, ctx.data_path, dev
        ),
    )
