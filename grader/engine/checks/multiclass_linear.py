"""Checks for bonus step multiclass_linear: init_linear10, linear10 and the fit10 loop."""

from types import SimpleNamespace

import torch

from grader.engine import data as data_sources
from grader.engine import drivers
from grader.engine.checks.base import (
    Context,
    Fail,
    accuracy_list,
    as_tensor,
    check,
    expect_tensor,
    probe,
    same,
    training_check,
)
from grader.engine.checks.planted import planted_fit
from grader.engine.checks.tenclass import trained_ten
from grader.engine.recipes.chapter import quiet
from grader.engine.recipes.ten_digits import run

STEP = "multiclass_linear"
UNCHANGED = (
    "the parameters never change: the update does not reach the tensors the model uses. Several "
    "mistakes do that (`p = p - lr * p.grad` only makes a new tensor; so does updating a copy; or "
    "the gradient is cleared before the step): update each parameter in place, under "
    "torch.no_grad() or through p.data"
)
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
            raise Fail("a parameter is not a leaf tensor", mistake="gradients were switched on "
                       "(requires_grad_() or requires_grad=True) before the multiplication by std: scale first, "
                       "then call requires_grad_()")
    spread = w.detach().std().item()
    if not abs(spread - 0.5) <= 0.05:  # NaN fails too
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


def fit_data(ctx: Context):
    """60 real training digits in batches of 10, and 30 others whose labels are shifted by one (so
    the metric on the wrong loader cannot match by chance): the judge picks them, both sides use
    them. Never a validation digit: the sandbox must not see one with its label."""
    source = ctx.full_view().source
    train = data_sources.full_items(source, "train")
    gen = torch.Generator().manual_seed(ctx.seed)
    pick = torch.randperm(len(train), generator=gen)[:90]
    x, y = data_sources.load_items([train[i] for i in pick[:60]])  # only the 90 digits it needs
    vx, vy = data_sources.load_items([train[i] for i in pick[60:]])
    return x, y, vx, (vy + 1) % 10


@probe
def run_fit(module, seed: int, x, y, vx, vy):
    """Two epochs of module.fit10 from seeded parameters: its accuracies and the trained parameters."""
    dl = [(x[i:i + 10], y[i:i + 10]) for i in range(0, len(x), 10)]
    valid_dl = [(vx[i:i + 10], vy[i:i + 10]) for i in range(0, len(vx), 10)]
    torch.manual_seed(seed)
    w = (torch.randn(784, 10) * 0.01).requires_grad_()
    b = torch.zeros(10).requires_grad_()
    accs = module.fit10(lambda xb: xb @ w + b, (w, b), dl, valid_dl, 0.5, 2, drivers.cross_entropy,
                        drivers.multiclass_accuracy)
    return {"accs": accs, "params": torch.cat([w.detach().view(-1), b.detach().view(-1)])}


def planted(fit10):
    return SimpleNamespace(fit10=fit10)


@check(STEP, "fit10 updates the parameters and measures like the reference (2 epochs, 60 digits)", 2)
def fit(ctx: Context):
    data = fit_data(ctx)
    observed = ctx.learner.observe(run_fit, ctx.seed, *data)
    got, params = observed.get("accs"), observed.get("params")
    want_run = run_fit(ctx.ref, ctx.seed, *data)
    want, want_params = want_run["accs"], want_run["params"]
    start = run_fit(planted(lambda *a: None), ctx.seed, *data)["params"]
    if isinstance(params, torch.Tensor) and torch.equal(params, start):
        raise Fail(UNCHANGED)  # more than one mistake looks like this: say what was seen, name none
    if not same(params, want_params, atol=1e-4):
        fits = [mistake for mistake, kw in (
            (NOT_ZEROED, {"zero": False}), (WRONG_SIGN, {"sign": -1.0}), (NO_LR, {"use_lr": False}))
            if same(params, run_fit(planted(variant_fit(**kw)), ctx.seed, *data)["params"], atol=1e-4)]
        if len(fits) == 1:
            raise Fail("the trained parameters differ from the reference's", mistake=fits[0])
        raise Fail("the trained parameters differ from the reference's: for every batch compute the loss, "
                   "backward, subtract lr * grad from each parameter, clear its gradient")
    got = accuracy_list(got, 2, "fit10(..., epochs=2)")
    on_train = run_fit(planted(variant_fit(on_train=True)), ctx.seed, *data)["accs"]
    if all(abs(g - w) < 1e-3 for g, w in zip(got, on_train)):
        raise Fail(f"accuracies {got} differ from the reference's {want}", mistake=ON_TRAIN)
    if not all(abs(g - w) <= 1e-3 for g, w in zip(got, want)):  # NaN fails too
        raise Fail(f"accuracies {got} differ from the reference's {want}")


@training_check(STEP, "a linear model trains on all ten digits to the threshold ({epochs} epochs, lr {lr})", 3,
                run=trained_ten)
def recipe(module, path, seed=0, device="cpu", progress=quiet):
    """A linear model 784 -> 10 from the step's init_linear10 and linear10, trained by its fit10."""

    def setup(dl, valid_dl, lr):
        weights, bias = module.init_linear10()

        def model(xb):
            return module.linear10(xb, weights, bias)

        return model, lambda: module.fit10(model, (weights, bias), dl, valid_dl, lr, 1, drivers.cross_entropy,
                                           drivers.multiclass_accuracy)

    return run("multiclass_linear", path, seed, device, progress, setup)
