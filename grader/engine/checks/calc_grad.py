"""Checks for step calc_grad."""

import torch

from grader.engine import drivers
from grader.engine.checks.base import Context, Fail, check, expect_tensor, probe, recording_loss

STEP = "calc_grad"


@probe
def grads_after(module, seed: int, calls: int):
    """The parameters' .grad after `calls` calls of calc_grad on a fresh linear model."""
    torch.manual_seed(seed)
    w = (torch.randn(784, 1) * 0.05).requires_grad_()  # small: sigmoids not saturated
    b = torch.randn(1).requires_grad_()
    xb = torch.rand(10, 784)
    yb = torch.randint(0, 2, (10, 1)).float()
    for _ in range(calls):
        module.calc_grad(xb, yb, lambda x: drivers.linear1(x, w, b), drivers.mnist_loss)
    return [w.grad, b.grad]


@probe
def loss_given(module, seed: int):
    """What calc_grad hands its loss function, on grads_after's model and batch (a diagnosis's evidence)."""
    torch.manual_seed(seed)
    w = (torch.randn(784, 1) * 0.05).requires_grad_()
    b = torch.randn(1).requires_grad_()
    xb = torch.rand(10, 784)
    yb = torch.randint(0, 2, (10, 1)).float()
    loss_func, given = recording_loss(drivers.mnist_loss, (w, b))
    module.calc_grad(xb, yb, lambda x: drivers.linear1(x, w, b), loss_func)
    return given


def observed_grads(ctx: Context, calls: int):
    grads = ctx.learner.observe(grads_after, ctx.seed, calls)
    if any(g is None for g in grads):
        raise Fail("after calc_grad the parameters have no .grad", mistake="loss.backward() was never called")
    return grads


@check(STEP, "fills the gradients of the parameters like the reference", 3)
def gradients(ctx: Context):
    got = observed_grads(ctx, 1)
    want = grads_after(ctx.ref, ctx.seed, 1)
    for name, g, w in zip(("weights", "bias"), got, want):
        expect_tensor(g, w, f"gradient of the {name}")


@check(STEP, "calling it twice adds the gradients up", 3)
def accumulates(ctx: Context):
    once = grads_after(ctx.ref, ctx.seed, 1)
    got = observed_grads(ctx, 2)
    for g, w in zip(got, once):
        if isinstance(g, torch.Tensor) and g.shape == w.shape and torch.allclose(g, w, atol=1e-6):
            raise Fail(
                "two calls left the same gradients as one",
                mistake="calc_grad zeroes the gradients itself: leave that to the training loop",
            )
        expect_tensor(g, 2 * w, "gradients after two calls")
