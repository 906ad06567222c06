"""Checks for bonus step multiclass_linear: init_linear10, linear10 and the fit10 loop."""

import torch

from grader.engine.checks.base import Context, Fail, accuracy_list, as_tensor, check, expect_tensor, same
from grader.engine.checks.planted import planted_fit
from grader.engine.checks.tenclass import trained_ten
from grader.engine.recipes import ten_digits

STEP = "multiclass_linear"
NOT_ZEROED = "the gradients are never cleared, so each batch adds to the last ones"
ON_TRAIN = "validating on the training set: measure the metric on valid_dl"
WRONG_SIGN = "the step goes uphill: subtract lr * grad, do not add it"
NO_LR = "the learning rate is ignored: multiply the gradient by lr"


@check(STEP, "init_linear10: weights (784, n) and bias (n,), leaf tensors that require gradients", 1)
def init(ctx: Context):
    for n in (10, 3):
        result = ctx.learner.init_linear10(n_classes=n, std=0.5)
        if not isinstance(result, tuple | list) or len(result) != 2:
            raise Fail("init_linear10 should return (weights, bias)")
        w, b = (as_tensor(v, name) for v, name in zip(result, ("weights", "bias")))
        if tuple(w.shape) != (784, n) or tuple(b.shape) != (n,):
            raise Fail(f"with n_classes={n}: shapes {tuple(w.shape)} and {tuple(b.shape)}, "
                       f"expected (784, {n}) and ({n},)")
        if not (w.requires_grad and b.requires_grad):
            raise Fail("a parameter does not require gradients", mistake="requires_grad_() was forgotten")
        if not (w.is_leaf and b.is_leaf):
            raise Fail("a parameter is not a leaf tensor", mistake="requires_grad_() came before the multiplication "
                       "by std: scale first, then call requires_grad_()")
    spread = w.detach().std().item()
    if abs(spread - 0.5) > 0.05:
        raise Fail(f"with std=0.5 the weights have std {spread:.3f}", mistake="std is ignored" if abs(spread - 1) < 0.1
                   else None)


@check(STEP, "linear10 gives (bs, 10) logits like the reference", 1)
def linear(ctx: Context):
    for bs in (1, 8):
        xb, w, b = torch.rand(bs, 784), torch.randn(784, 10), torch.randn(10)
        expect_tensor(ctx.learner.linear10(xb, w, b), ctx.ref.linear10(xb, w, b), f"linear10 on a batch of {bs}",
                      {"the bias is left out": xb @ w}, atol=1e-3)


def variant_fit(zero=True, on_train=False, sign=1.0, use_lr=True):
    def fit10(model, params, dl, valid_dl, lr, epochs, loss_func, metric):
        return planted_fit(
            model, dl, epochs, loss_func, params=params, lr=lr, valid_dl=valid_dl, metric=metric,
            sign=sign, use_lr=use_lr, zero=zero, on_train=on_train,
        )

    return fit10


def run_fit(fn, ctx: Context):
    """Two epochs over 60 real digits in batches of 10, validated on 30 others whose labels
    are shifted by one (so the metric on the wrong loader cannot match by chance)."""
    x, y = ten_digits.tensors("train")
    vx, vy = ten_digits.tensors("valid")
    gen = torch.Generator().manual_seed(ctx.seed)
    pick, vpick = torch.randperm(len(x), generator=gen)[:60], torch.randperm(len(vx), generator=gen)[:30]
    dl = [(x[pick[i:i + 10]], y[pick[i:i + 10]]) for i in range(0, 60, 10)]
    valid_dl = [(vx[vpick[i:i + 10]], (vy[vpick[i:i + 10]] + 1) % 10) for i in range(0, 30, 10)]
    torch.manual_seed(ctx.seed)
    w = (torch.randn(784, 10) * 0.01).requires_grad_()
    b = torch.zeros(10).requires_grad_()
    m = ctx.ref_module("softmax")
    accs = fn(lambda xb: xb @ w + b, (w, b), dl, valid_dl, 0.5, 2, m.cross_entropy, m.multiclass_accuracy)
    return accs, torch.cat([w.detach().view(-1), b.detach().view(-1)])


@check(STEP, "fit10 updates the parameters and measures like the reference (2 epochs, 60 digits)", 2)
def fit(ctx: Context):
    got, params = run_fit(ctx.learner.fit10, ctx)
    want, want_params = run_fit(ctx.ref.fit10, ctx)
    _, start = run_fit(lambda *a: None, ctx)
    if torch.equal(params, start):
        raise Fail("the parameters are the same after training", mistake=(
            "the parameters never change: `p = p - lr * p.grad` makes a new tensor; update in place "
            "(under torch.no_grad() or through p.data)"))
    if not same(params, want_params, atol=1e-4):
        for mistake, kw in ((NOT_ZEROED, {"zero": False}), (WRONG_SIGN, {"sign": -1.0}), (NO_LR, {"use_lr": False})):
            if same(params, run_fit(variant_fit(**kw), ctx)[1], atol=1e-4):
                raise Fail("the trained parameters differ from the reference's", mistake=mistake)
        raise Fail("the trained parameters differ from the reference's: for every batch compute the loss, "
                   "backward, subtract lr * grad from each parameter, clear its gradient")
    got = accuracy_list(got, 2, "fit10(..., epochs=2)")
    on_train, _ = run_fit(variant_fit(on_train=True), ctx)
    if all(abs(g - w) < 1e-3 for g, w in zip(got, on_train)):
        raise Fail(f"accuracies {got} differ from the reference's {want}", mistake=ON_TRAIN)
    if any(abs(g - w) > 1e-3 for g, w in zip(got, want)):
        raise Fail(f"accuracies {got} differ from the reference's {want}")


@check(STEP, "a linear model trains on all ten digits to the threshold (5 epochs, lr 0.5)", 3, trains=True,
       timeout=120)
def trains(ctx: Context):
    dev = ctx.device.type
    m, r = ctx.learner, ctx.ref
    return trained_ten(
        ctx,
        lambda keep: ten_digits.linear10(m.init_linear10, m.linear10, m.fit10, ctx.seed, dev, ctx.progress, keep),
        lambda: ten_digits.linear10(r.init_linear10, r.linear10, r.fit10, ctx.seed, dev),
    )
