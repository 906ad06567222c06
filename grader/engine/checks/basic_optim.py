"""Checks for step basic_optim."""

import torch
from torch import nn

from grader.engine.checks.base import Context, Fail, check, expect_tensor, trained
from grader.engine.recipes import chapter

STEP = "basic_optim"


def model_with_grads(seed: int):
    torch.manual_seed(seed)
    model = nn.Linear(5, 1)
    model(torch.rand(3, 5)).sum().backward()
    return model


def flat(model):
    return torch.cat([p.detach().view(-1) for p in model.parameters()])


@check(STEP, "step() moves each parameter by -lr * grad", 3)
def step(ctx: Context):
    model = model_with_grads(ctx.seed)
    before = flat(model)
    grads = torch.cat([p.grad.view(-1) for p in model.parameters()])
    opt = ctx.learner.BasicOptim(model.parameters(), 0.1)  # a generator, as in real use
    opt.step()
    got = flat(model)
    if torch.equal(got, before):
        raise Fail("step() left the parameters unchanged", mistake=(
            "params is a generator that was used up: keep list(params), or update p.data in place"))
    expect_tensor(got, before - 0.1 * grads, "parameters after step()", {
        "the step goes uphill: subtract lr * grad": before + 0.1 * grads,
        "the learning rate is ignored": before - grads,
    })
    opt.step()  # a second step must move them again: the list was kept
    expect_tensor(flat(model), before - 0.2 * grads, "parameters after a second step()", {
        "params is a generator that was used up after one step(): keep list(params)": got,
    })


@check(STEP, "zero_grad() clears every gradient", 2)
def zero_grad(ctx: Context):
    model = model_with_grads(ctx.seed)
    opt = ctx.learner.BasicOptim(list(model.parameters()), 0.1)
    opt.zero_grad()
    for p in model.parameters():
        if p.grad is not None and p.grad.abs().sum() > 0:
            raise Fail("a gradient is still there after zero_grad()")


@check(STEP, "trains nn.Linear to the accuracy threshold (20 epochs, lr 1.0)", 5, trains=True, timeout=120)
def trains(ctx: Context):
    dev = ctx.device.type
    return trained(
        ctx,
        lambda: chapter.with_optimizer(ctx.learner.BasicOptim, ctx.data_path, dev, ctx.progress),
        lambda: chapter.with_optimizer(ctx.ref.BasicOptim, ctx.data_path, dev),
    )
