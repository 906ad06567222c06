"""Checks for bonus step multiclass_net: init_net10 and net10, trained on all ten digits."""

import math

import torch

from grader.engine import drivers
from grader.engine.checks.base import Context, Fail, as_tensor, check, expect_tensor, training_check
from grader.engine.checks.tenclass import trained_ten
from grader.engine.recipes.chapter import quiet
from grader.engine.recipes.ten_digits import N_HIDDEN, run

STEP = "multiclass_net"
NO_RELU = "there is no non-linearity: without a ReLU the two layers are one linear layer"
STD_ONE = (
    "the weights keep randn's std of 1: the first layer's outputs come out about 10 times too large; "
    "multiply each weight matrix by sqrt(2 / fan_in)"
)


@check(STEP, "init_net10: [w1, b1, w2, b2] of the right shapes, leaf tensors, weights scaled by sqrt(2/fan_in)", 2)
def init(ctx: Context):
    for n_hidden in (64, 30):
        params = ctx.learner.init_net10(n_hidden)
        if not isinstance(params, tuple | list) or len(params) != 4:
            raise Fail("init_net10 should return the list [w1, b1, w2, b2]")
        params = [as_tensor(p, name) for p, name in zip(params, ("w1", "b1", "w2", "b2"))]
        shapes = [tuple(p.shape) for p in params]
        want = [(784, n_hidden), (n_hidden,), (n_hidden, 10), (10,)]
        if shapes != want:
            raise Fail(f"init_net10({n_hidden}) gives shapes {shapes}, expected {want}")
        if not all(p.requires_grad for p in params):
            raise Fail("a parameter does not require gradients", mistake="requires_grad_() was forgotten")
        if not all(p.is_leaf for p in params):
            raise Fail("a parameter is not a leaf tensor", mistake="gradients were switched on "
                       "(requires_grad_() or requires_grad=True) before the scaling: scale first, then call "
                       "requires_grad_()")
    for name, w, fan_in in (("w1", params[0], 784), ("w2", params[2], 30)):
        spread, target = w.detach().std().item(), math.sqrt(2 / fan_in)
        if abs(spread - 1.0) < 0.1:
            raise Fail(f"{name} has std {spread:.3f}, expected about {target:.3f}", mistake=STD_ONE)
        if not abs(spread - target) <= 0.25 * target:  # NaN fails too
            raise Fail(f"{name} has std {spread:.3f}, expected about sqrt(2 / {fan_in}) = {target:.3f}")


@check(STEP, "net10 matches the reference (linear, ReLU, linear)", 2)
def values(ctx: Context):
    xb = torch.rand(6, 784)
    w1, b1, w2, b2 = torch.randn(784, 20) * 0.05, torch.randn(20), torch.randn(20, 10) * 0.3, torch.randn(10)
    params = [w1, b1, w2, b2]
    got = ctx.learner.net10(xb, params)
    expect_tensor(got, ctx.ref.net10(xb, params), "net10(xb, params)", {
        NO_RELU: (xb @ w1 + b1) @ w2 + b2,
        "the ReLU is applied to the output instead of the hidden layer": ((xb @ w1 + b1) @ w2 + b2).clamp(min=0),
        "a ReLU also comes after the last layer: the logits must be free to go negative":
            ((xb @ w1 + b1).clamp(min=0) @ w2 + b2).clamp(min=0),
    }, atol=1e-3)


@training_check(STEP, "the net trains on all ten digits to the threshold ({epochs} epochs, lr {lr})", 3,
                run=trained_ten)
def recipe(module, path, seed=0, device="cpu", progress=quiet):
    """A two-layer net 784 -> 64 -> 10 from the step's init_net10 and net10, plain SGD."""

    def setup(dl, valid_dl, lr):
        params = list(module.init_net10(N_HIDDEN))

        def model(xb):
            return module.net10(xb, params)

        return model, lambda: drivers.fit10(model, params, dl, valid_dl, lr, 1, drivers.cross_entropy,
                                            drivers.multiclass_accuracy)

    return run("multiclass_net", path, seed, device, progress, setup)
