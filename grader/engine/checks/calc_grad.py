"""Checks for step calc_grad."""

import torch

from grader.engine.checks.base import Context, Fail, check, expect_tensor

STEP = "calc_grad"


def setup(ctx: Context):
    """A linear model with fresh parameters, a batch and the reference loss."""
    linear1 = ctx.ref_module("linear1").linear1
    w = (torch.randn(784, 1) * 0.05).requires_grad_()  # small: sigmoids not saturated
    b = torch.randn(1).requires_grad_()
    xb = torch.rand(10, 784)
    yb = torch.randint(0, 2, (10, 1)).float()
    return (lambda x: linear1(x, w, b)), (w, b), xb, yb


def grads_after(fn, ctx: Context, calls: int):
    torch.manual_seed(ctx.seed)
    model, params, xb, yb = setup(ctx)
    for _ in range(calls):
        fn(xb, yb, model, ctx.ref_module("mnist_loss").mnist_loss)
    grads = [p.grad for p in params]
    if any(g is None for g in grads):
        raise Fail("after calc_grad the parameters have no .grad", mistake="loss.backward() was never called")
    return grads


@check(STEP, "fills the gradients of the parameters like the reference", 3)
def gradients(ctx: Context):
    got = grads_after(ctx.learner.calc_grad, ctx, 1)
    want = grads_after(ctx.ref.calc_grad, ctx, 1)
    for name, g, w in zip(("weights", "bias"), got, want):
        expect_tensor(g, w, f"gradient of the {name}")


@check(STEP, "calling it twice adds the gradients up", 3)
def accumulates(ctx: Context):
    once = grads_after(ctx.ref.calc_grad, ctx, 1)
    got = grads_after(ctx.learner.calc_grad, ctx, 2)
    for g, w in zip(got, once):
        if torch.allclose(g, w, atol=1e-6):
            raise Fail(
                "two calls left the same gradients as one",
                mistake="calc_grad zeroes the gradients itself: leave that to the training loop",
            )
        expect_tensor(g, 2 * w, "gradients after two calls")
