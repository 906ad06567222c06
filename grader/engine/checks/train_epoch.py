"""Checks for step train_epoch."""

import torch

from grader.engine.checks.base import Context, Fail, check, expect_tensor, trained
from grader.engine.checks.planted import planted_fit
from grader.engine.recipes import chapter

STEP = "train_epoch"
NOT_ZEROED = "the gradients are never zeroed, so each batch adds to the last ones"
WRONG_SIGN = "the step goes uphill: subtract lr * grad, do not add it"
NO_LR = "the learning rate is ignored: multiply the gradient by lr"
UNCHANGED = (
    "the parameters never change: `p = p - lr * p.grad` makes a new tensor; update in place "
    "(p.data -= ... or under torch.no_grad())"
)


def variant_epoch(sign=1.0, use_lr=True, zero=True):
    """A train_epoch with one of the chapter's mistakes planted."""

    def train_epoch(model, dl, lr, params, loss_func):
        planted_fit(model, dl, 1, loss_func, params=params, lr=lr, sign=sign, use_lr=use_lr, zero=zero)

    return train_epoch


def params_after(fn, ctx: Context, lr: float):
    """Parameters after one epoch over 3 small batches, from the same seeded start."""
    torch.manual_seed(ctx.seed)
    w = (torch.randn(784, 1) * 0.05).requires_grad_()  # small: sigmoids not saturated
    b = torch.randn(1).requires_grad_()
    batches = [(torch.rand(4, 784), torch.randint(0, 2, (4, 1)).float()) for _ in range(3)]
    linear1 = ctx.ref_module("linear1").linear1
    fn(lambda x: linear1(x, w, b), batches, lr, (w, b), ctx.ref_module("mnist_loss").mnist_loss)
    return torch.cat([w.detach().view(-1), b.detach().view(-1)])


@check(STEP, "one epoch changes the parameters like the reference", 5)
def update(ctx: Context):
    lr = 0.3
    got = params_after(ctx.learner.train_epoch, ctx, lr)
    if torch.equal(got, params_after(lambda *a: None, ctx, lr)):
        raise Fail("the parameters are the same after the epoch", mistake=UNCHANGED)
    variants = {
        NOT_ZEROED: params_after(variant_epoch(zero=False), ctx, lr),
        WRONG_SIGN: params_after(variant_epoch(sign=-1.0), ctx, lr),
        NO_LR: params_after(variant_epoch(use_lr=False), ctx, lr),
    }
    expect_tensor(got, params_after(ctx.ref.train_epoch, ctx, lr), "parameters after one epoch", variants)


@check(STEP, "20 epochs at lr 1.0 reach the accuracy threshold", 5, trains=True, timeout=120)
def trains(ctx: Context):
    init = ctx.ref_module("init_params").init_params
    dev = ctx.device.type
    return trained(
        ctx,
        lambda: chapter.linear_from_scratch(ctx.learner.train_epoch, init, ctx.data_path, dev, ctx.progress),
        lambda: chapter.linear_from_scratch(ctx.ref.train_epoch, init, ctx.data_path, dev),
    )
