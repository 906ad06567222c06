"""Checks for step init_params."""

import torch

from grader.engine.checks.base import Context, Fail, as_tensor, check

STEP = "init_params"


@check(STEP, "returns a tensor of the requested size", 1)
def shape(ctx: Context):
    for size, want in (((784, 1), (784, 1)), (1, (1,)), ((30,), (30,))):
        got = as_tensor(ctx.learner.init_params(size), f"init_params({size})")
        if tuple(got.shape) != want:
            raise Fail(f"init_params({size}) has shape {tuple(got.shape)}, expected {want}")


@check(STEP, "the parameters require gradients", 2)
def requires_grad(ctx: Context):
    got = as_tensor(ctx.learner.init_params((784, 1)), "init_params((784, 1))")
    if not got.requires_grad:
        raise Fail(
            "init_params((784, 1)).requires_grad is False",
            mistake="requires_grad_() was forgotten: without it backward() leaves .grad empty",
        )


@check(STEP, "the parameters are leaf tensors (their .grad gets filled)", 1)
def leaf(ctx: Context):
    got = as_tensor(ctx.learner.init_params((784, 1), std=0.5), "init_params((784, 1), std=0.5)")
    if not got.is_leaf:
        raise Fail(
            "the result is not a leaf tensor, so PyTorch will not keep its .grad",
            mistake="gradients were switched on (requires_grad_() or requires_grad=True) before the "
            "multiplication by std: scale first, then call requires_grad_() on the result",
        )


@check(STEP, "values are normal with mean 0 and the given std", 2)
def distribution(ctx: Context):
    for std in (1.0, 0.5):
        with torch.no_grad():
            got = as_tensor(ctx.learner.init_params((300, 300), std=std), "init_params").float()
        mean, spread = got.mean().item(), got.std().item()
        if abs(mean - 0.5) < 0.05 and abs(spread - 0.289 * std) < 0.05:
            raise Fail("the values look uniform on [0, 1)", mistake="torch.rand is uniform: use torch.randn")
        if std != 1.0 and abs(spread - 1.0) < 0.03:
            raise Fail(f"with std={std} the values have std {spread:.3f}", mistake="std is ignored")
        if not (abs(mean) <= 0.02 * std * 3 and abs(spread - std) <= 0.03 * std):  # NaN fails too
            raise Fail(f"with std={std}: mean {mean:.3f} and std {spread:.3f}; expected 0 and {std}")
