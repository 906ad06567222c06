"""Checks for step simple_net: the two-layer net from scratch and from modules."""

import torch
from torch import nn

from grader.engine.checks.base import Context, Fail, check, expect_tensor, trained
from grader.engine.recipes import chapter

STEP = "simple_net"
NO_RELU = "there is no non-linearity: without a ReLU the two linear layers are one linear layer"


@check(STEP, "simple_net from scratch matches the reference", 3)
def from_scratch(ctx: Context):
    xb = torch.rand(6, 784)
    w1, b1 = torch.randn(784, 30), torch.randn(30)
    w2, b2 = torch.randn(30, 1), torch.randn(1)
    got = ctx.learner.simple_net(xb, w1, b1, w2, b2)
    expect_tensor(got, ctx.ref.simple_net(xb, w1, b1, w2, b2), "simple_net(xb, ...)", {
        NO_RELU: (xb @ w1 + b1) @ w2 + b2,
        "the ReLU is applied to the output instead of the hidden layer": ((xb @ w1 + b1) @ w2 + b2).clamp(min=0),
    }, atol=1e-3)


def is_affine(model) -> bool:
    """An affine map sends the midpoint of two inputs to the midpoint of their outputs."""
    a, b = torch.rand(16, 784), torch.rand(16, 784)
    with torch.no_grad():
        return torch.allclose(model((a + b) / 2), (model(a) + model(b)) / 2, atol=1e-5)


@check(STEP, "simple_net_module: Linear(784, 30), ReLU, Linear(30, 1)", 3)
def module(ctx: Context):
    model = ctx.learner.simple_net_module()
    if not isinstance(model, nn.Module):
        raise Fail(f"simple_net_module() returned a {type(model).__name__}, expected an nn.Module")
    out = model(torch.rand(5, 784))
    if tuple(out.shape) != (5, 1):
        raise Fail(f"the net turns 5 images into shape {tuple(out.shape)}, expected (5, 1)")
    n = sum(p.numel() for p in model.parameters())
    if n != 784 * 30 + 30 + 30 + 1:
        raise Fail(f"the net has {n} parameters; Linear(784, 30) and Linear(30, 1) have 23,581")
    if is_affine(model):
        raise Fail("the net is linear", mistake=NO_RELU)
    wide = ctx.learner.simple_net_module(n_hidden=50)
    if sum(p.numel() for p in wide.parameters()) != 784 * 50 + 50 + 50 + 1:
        raise Fail("simple_net_module(n_hidden=50) ignores n_hidden")


@check(STEP, "the module net trains to the accuracy threshold (40 epochs, lr 0.1)", 4, trains=True, timeout=180)
def trains(ctx: Context):
    dev = ctx.device.type
    return trained(
        ctx,
        lambda: chapter.two_layer_net(ctx.learner.simple_net_module, ctx.data_path, dev, ctx.progress),
        lambda: chapter.two_layer_net(ctx.ref.simple_net_module, ctx.data_path, dev),
    )
