"""Checks for step basic_optim."""

import torch
from torch import nn

from grader.engine import drivers
from grader.engine.checks.base import Context, Fail, check, expect_tensor, probe, training_check
from grader.engine.departure import how_the_update_differs
from grader.engine.recipes.chapter import epochs_of, loaders, quiet

STEP = "basic_optim"


def model_with_grads(seed: int):
    torch.manual_seed(seed)
    model = nn.Linear(5, 1)
    model(torch.rand(3, 5)).sum().backward()
    return model


def flat(model):
    return torch.cat([p.detach().view(-1) for p in model.parameters()])


@probe
def two_steps(module, seed: int):
    """The parameters after one and after two step() calls of module.BasicOptim (lr 0.1)."""
    model = model_with_grads(seed)
    opt = module.BasicOptim(model.parameters(), 0.1)  # a generator, as in real use
    opt.step()
    first = flat(model)
    opt.step()
    return [first, flat(model)]


@probe
def grads_after_zero_grad(module, seed: int):
    model = model_with_grads(seed)
    module.BasicOptim(list(model.parameters()), 0.1).zero_grad()
    return [p.grad for p in model.parameters()]


@check(STEP, "step() moves each parameter by -lr * grad", 3)
def step(ctx: Context):
    model = model_with_grads(ctx.seed)
    before = flat(model)
    grads = torch.cat([p.grad.view(-1) for p in model.parameters()])
    got, second = ctx.learner.observe(two_steps, ctx.seed)
    if isinstance(got, torch.Tensor) and torch.equal(got, before):
        raise Fail("step() left the parameters unchanged: the update does not reach the model's tensors "
                   "(`p = p - ...` only rebinds a name; update p.data in place, or under torch.no_grad())")
    try:
        expect_tensor(got, before - 0.1 * grads, "parameters after step()", given=f"BasicOptim(params, lr=0.1) on a "
                      f"seeded model whose gradients are set (seed {ctx.seed}), then step()", variants={
            "the step goes uphill: subtract lr * grad": before + 0.1 * grads,
            "the learning rate is ignored": before - grads,
        })
    except Fail as verdict:
        if verdict.mistake is not None or not isinstance(got, torch.Tensor) or got.shape != before.shape:
            raise
        line, cause = how_the_update_differs(before.double(), got.double(), 0.1, grads.double())
        raise Fail(f"{verdict.message}\n  the update: {line}", mistake=cause, difference=verdict.difference) from None
    # a second step must move them again: the list was kept
    expect_tensor(second, before - 0.2 * grads, "parameters after a second step()", {
        "params is a generator that was used up after one step(): keep list(params)": got,
    })


@check(STEP, "zero_grad() clears every gradient", 2)
def zero_grad(ctx: Context):
    for grad in ctx.learner.observe(grads_after_zero_grad, ctx.seed):
        if grad is not None and (not isinstance(grad, torch.Tensor) or grad.abs().sum() > 0):
            raise Fail("a gradient is still there after zero_grad()")


@training_check(STEP, "trains nn.Linear to the accuracy threshold ({epochs} epochs, lr {lr})", 5)
def recipe(module, path, device="cpu", progress=quiet):
    """Section "Creating an Optimizer": nn.Linear(784, 1) trained with the step's BasicOptim."""
    s, dl, _, valid_x = loaders(path, "basic_optim", device)
    model = nn.Linear(28 * 28, 1).to(device)
    opt = module.BasicOptim(model.parameters(), s.lr)
    return epochs_of(lambda: drivers.fit(model, dl, 1, drivers.mnist_loss, opt), model, valid_x, s.epochs, progress)
