"""Checks for step simple_net: the two-layer net from scratch and from modules."""

import torch
from torch import nn

from grader.engine import drivers
from grader.engine.checks.base import Context, Fail, check, expect_tensor, probe, training_check
from grader.engine.recipes.chapter import epochs_of, loaders, quiet

STEP = "simple_net"
NO_RELU = "there is no non-linearity: without a ReLU the two linear layers are one linear layer"
SIGMOID_OUT = "the output goes through a sigmoid: simple_net returns logits, and mnist_loss applies the sigmoid"
SIGMOID_HIDDEN = "the hidden layer goes through a sigmoid: the chapter's net puts a ReLU there"
RELU_OUT = "a ReLU also comes after the last layer: the output (a logit) must be free to go negative"


@check(STEP, "simple_net from scratch matches the reference", 3)
def from_scratch(ctx: Context):
    xb = torch.rand(6, 784)
    w1, b1 = torch.randn(784, 30), torch.randn(30)
    w2, b2 = torch.randn(30, 1), torch.randn(1)
    got = ctx.learner.simple_net(xb, w1, b1, w2, b2)
    hidden = (xb @ w1 + b1).clamp(min=0)
    expect_tensor(got, ctx.ref.simple_net(xb, w1, b1, w2, b2), "simple_net(xb, ...)", {
        NO_RELU: (xb @ w1 + b1) @ w2 + b2,
        SIGMOID_HIDDEN: (xb @ w1 + b1).sigmoid() @ w2 + b2,
        "b1 is not added: the hidden layer is xb @ w1 + b1": (xb @ w1).clamp(min=0) @ w2 + b2,
        "b2 is not added: the output is res @ w2 + b2": hidden @ w2,
        "the ReLU is applied to the output instead of the hidden layer": ((xb @ w1 + b1) @ w2 + b2).clamp(min=0),
        SIGMOID_OUT: (hidden @ w2 + b2).sigmoid(),
        RELU_OUT: (hidden @ w2 + b2).clamp(min=0),
    }, atol=1e-3)


@probe
def module_probe(module, a, b):
    """simple_net_module(): its layers, its parameter count (and n_hidden=50's), and its
    outputs on two batches and on their midpoint (an affine map keeps midpoints)."""
    model = module.simple_net_module()
    if not isinstance(model, nn.Module):
        return {"type": type(model).__name__}
    with torch.no_grad():
        outs = [model(a), model(b), model((a + b) / 2)]
    wide = module.simple_net_module(n_hidden=50)
    return {
        "type": "Module",
        "layers": [type(m).__name__ for m in model.modules() if not list(m.children())],
        "n": sum(p.numel() for p in model.parameters()),
        "wide": sum(p.numel() for p in wide.parameters()) if isinstance(wide, nn.Module) else -1,
        "outs": outs,
    }


@check(STEP, "simple_net_module: Linear(784, 30), ReLU, Linear(30, 1)", 3)
def module(ctx: Context):
    a, b = torch.rand(16, 784), torch.rand(16, 784)
    got = ctx.learner.observe(module_probe, a, b)
    if got.get("type") != "Module":
        raise Fail(f"simple_net_module() returned a {got.get('type')}, expected an nn.Module")
    outs = got.get("outs")
    if not isinstance(outs, list) or not all(isinstance(o, torch.Tensor) for o in outs):
        raise Fail("the net's outputs could not be read")
    if tuple(outs[0].shape) != (16, 1) or outs[0].shape != outs[2].shape:
        raise Fail(f"the net turns 16 images into shape {tuple(outs[0].shape)}, expected (16, 1)")
    if got.get("n") != 784 * 30 + 30 + 30 + 1:
        raise Fail(f"the net has {got.get('n')} parameters; Linear(784, 30) and Linear(30, 1) have 23,581")
    if torch.allclose(outs[2], (outs[0] + outs[1]) / 2, atol=1e-5):
        raise Fail("the net is linear", mistake=NO_RELU)
    layers = got.get("layers") or []
    if layers and layers[-1] != "Linear":
        named = {"ReLU": RELU_OUT, "Sigmoid": SIGMOID_OUT}.get(layers[-1])
        raise Fail(f"the net ends with {layers[-1]}, expected the last Linear", mistake=named)
    others = [name for name in layers if name not in ("Linear", "ReLU")]
    if "ReLU" not in layers and others:  # a net whose forward calls F.relu itself has no such module
        raise Fail(f"the layers are {', '.join(layers)}: the chapter's net has a ReLU between the two Linears",
                   mistake=SIGMOID_HIDDEN if others == ["Sigmoid"] else None)
    if got.get("wide") != 784 * 50 + 50 + 50 + 1:
        raise Fail("simple_net_module(n_hidden=50) ignores n_hidden")


@training_check(STEP, "the module net trains to the accuracy threshold ({epochs} epochs, lr {lr})", 4)
def recipe(module, path, device="cpu", progress=quiet):
    """Section "Adding a Nonlinearity": the step's nn.Sequential, plain SGD."""
    s, dl, _, valid_x = loaders(path, "simple_net", device)
    with torch.device(device):
        model = module.simple_net_module()
    model.to(device)
    opt = drivers.SGD(model.parameters(), s.lr)
    return epochs_of(lambda: drivers.fit(model, dl, 1, drivers.mnist_loss, opt), model, valid_x, s.epochs, progress)
