"""Checks for step mnist_loss."""

import torch

from grader.engine.checks.base import Context, Fail, as_tensor, check, expect_tensor, loss_and_gradient
from grader.engine.difference import shown

STEP = "mnist_loss"
NO_SIGMOID = "the sigmoid is missing: squash the logits with .sigmoid() first"
TWICE = "the sigmoid is applied twice"
SWAPPED = "1 - p and p are swapped: a target of 1 costs 1 - p"
BROADCAST = (
    "predictions and targets have different shapes ((bs,) against (bs, 1)) and broadcast "
    "into a (bs, bs) grid: keep both (bs, 1)"
)
SUM = "the loss is summed, not averaged: use .mean()"


def variants(preds, targets):
    def where(p, t):
        return torch.where(t == 1, 1 - p, p)

    p = preds.sigmoid()
    return {
        NO_SIGMOID: where(preds, targets).mean(),
        TWICE: where(p.sigmoid(), targets).mean(),
        SWAPPED: torch.where(targets == 1, p, 1 - p).mean(),
        BROADCAST: where(p.view(-1), targets).mean(),
        SUM: where(p, targets).sum(),
    }


def logit(p):
    p = torch.as_tensor(p)
    return torch.log(p / (1 - p))


@check(STEP, "the chapter's example: sigmoids 0.9, 0.4, 0.2 against targets 1, 0, 1", 2)
def example(ctx: Context):
    preds = logit([[0.9], [0.4], [0.2]])
    targets = torch.tensor([[1.0], [0.0], [1.0]])
    got = ctx.learner.mnist_loss(preds, targets)
    expect_tensor(got, torch.tensor(0.4333), "mnist_loss", variants(preds, targets), atol=1e-3,
                  given="the chapter's example: logits whose sigmoids are 0.9, 0.4, 0.2; targets 1, 0, 1")


@check(STEP, "matches the reference on random logits of several batch sizes", 2)
def random_batches(ctx: Context):
    for bs in (2, 5, 64):
        preds = torch.randn(bs, 1) * 3
        targets = torch.randint(0, 2, (bs, 1)).float()
        got = ctx.learner.mnist_loss(preds, targets)
        want = ctx.ref.mnist_loss(preds, targets)
        expect_tensor(got, want, f"mnist_loss on a batch of {bs}", variants(preds, targets),
                      given=f"mnist_loss({shown(preds)}, {shown(targets)}), seed {ctx.seed}")


@check(STEP, "its gradient matches the reference", 2)
def gradient(ctx: Context):
    base = torch.randn(16, 1) * 2
    targets = torch.randint(0, 2, (16, 1)).float()
    got = ctx.learner.observe(loss_and_gradient, "mnist_loss", base, targets)
    loss = as_tensor(got["loss"], "mnist_loss")
    if not loss.requires_grad:
        raise Fail("the loss carries no gradient", mistake="the result was detached (.item(), .data or a new tensor)")
    if got["grad"] is None:
        raise Fail(f"mnist_loss returned shape {tuple(loss.shape)}: backward() needs one number")
    want = loss_and_gradient(ctx.ref, "mnist_loss", base, targets)["grad"]
    expect_tensor(got["grad"], want, "d loss / d predictions", given=f"mnist_loss({shown(base)}, {shown(targets)}), "
                  f"seed {ctx.seed}, then backward()", variants={
        NO_SIGMOID: variant_gradient(base, targets, lambda p: p),
        TWICE: variant_gradient(base, targets, lambda p: p.sigmoid().sigmoid()),
        SUM: variant_gradient(base, targets, lambda p: p.sigmoid(), reduce=torch.sum),
    })


def variant_gradient(base, targets, squash, reduce=torch.mean):
    preds = base.clone().requires_grad_()
    p = squash(preds)
    reduce(torch.where(targets == 1, 1 - p, p)).backward()
    return preds.grad


@check(STEP, "returns one number: a scalar tensor", 2)
def scalar(ctx: Context):
    preds, targets = torch.randn(8, 1), torch.ones(8, 1)
    got = as_tensor(ctx.learner.mnist_loss(preds, targets), "mnist_loss")
    if got.dim() != 0:
        raise Fail(f"mnist_loss returned shape {tuple(got.shape)}; backward() needs a scalar: take the .mean()")
