"""Checks for bonus step softmax: softmax, cross_entropy and multiclass_accuracy, with
PyTorch's own torch.softmax and F.cross_entropy as the oracles."""

import torch
import torch.nn.functional as F

from grader.engine.checks.base import Context, Fail, as_tensor, check, expect_tensor, loss_and_gradient

STEP = "softmax"
WRONG_DIM = "softmax runs over the wrong dimension: each row (one image's logits) must add up to 1, so use dim=-1"
WHOLE = "the exps are divided by one sum over the whole batch: sum each row on its own (dim=-1, keepdim=True)"
NO_EXP = "the exp is missing: softmax divides exp(logit) by the row's sum of exps"
SIGMOID = "that is the sigmoid of each logit on its own: softmax shares out 1 among the classes"
NO_MAX = (
    "the row's maximum is not subtracted first: exp(1000) overflows to inf (and exp(-1000) to 0), "
    "so the division gives nan"
)
BATCH_MAX = (
    "the maximum of the whole batch is subtracted, not each row's own: a row far below the batch's "
    "maximum underflows to 0 / 0 = nan; use x.max(dim=-1, keepdim=True)"
)
ON_PROBS = "cross-entropy was given probabilities: it takes the raw logits and applies the (log-)softmax itself"
NO_LOG = "the log is missing: the loss is -log(probability of the target class)"
NO_SOFTMAX = "the softmax is missing: -logit[target] alone is not a loss that a model can be trained with"
SUM = "the loss is summed over the batch, not averaged: take the mean"
NO_MINUS = "the minus sign is missing: the loss is -log(probability of the target class), never negative"
ALL_TARGETS = (
    "log_probs[:, targets] takes every row's value at every target (a bs x bs table): pick one per row, "
    "with .gather(1, targets.view(-1, 1)) or [range(bs), targets]"
)
LOG_OF_SOFTMAX = (
    "log(softmax(...)) breaks on confident logits: a probability that rounds to 0 has log 0 = -inf "
    "(and a one-hot 0 times -inf is nan); compute log-softmax directly as logits - logsumexp(logits)"
)


def softmax_variants(x):
    e = x.exp()
    shifted = (x - x.max(dim=-1, keepdim=True).values).exp()  # the same mistakes after the row's maximum
    return {
        WRONG_DIM: (torch.softmax(x, dim=0), shifted / shifted.sum(dim=0, keepdim=True)),
        WHOLE: (e / e.sum(), shifted / shifted.sum()),
        NO_EXP: x / x.sum(dim=-1, keepdim=True),
        SIGMOID: x.sigmoid(),
    }


@check(STEP, "softmax matches torch.softmax on random logits", 2)
def softmax_values(ctx: Context):
    for shape in ((6, 10), (5, 3), (1, 10)):
        x = torch.randn(*shape) * 3
        got = ctx.learner.softmax(x)
        expect_tensor(got, torch.softmax(x, dim=-1), f"softmax of logits {shape}", softmax_variants(x))


@check(STEP, "softmax stays finite and right on large logits (1000 and -1000)", 2)
def softmax_stable(ctx: Context):
    x = torch.tensor([[1000.0, 999.0, 0.0], [-1000.0, -1000.0, -1001.0], [-1000.0, 1000.0, 990.0], [1.0, 2.0, 3.0]])
    got = as_tensor(ctx.learner.softmax(x), "softmax")
    if got.shape == x.shape and not torch.isfinite(got).all():
        fits = [m for m, wrong in ((NO_MAX, x.exp() / x.exp().sum(dim=-1, keepdim=True)),
                                   (BATCH_MAX, (x - x.max()).exp() / (x - x.max()).exp().sum(dim=-1, keepdim=True)))
                if torch.allclose(got.float(), wrong, atol=2e-4, equal_nan=True)]
        raise Fail("softmax of logits around +-1000 holds nan or inf", mistake=fits[0] if len(fits) == 1 else None)
    # float32 holds numbers near 1000 to about 6e-5: exp(x - logsumexp(x)) is that close, not closer
    expect_tensor(got, torch.softmax(x, dim=-1), "softmax of logits around +-1000", softmax_variants(x), atol=2e-4)


def cross_entropy_variants(x, t):
    p = torch.softmax(x, dim=-1)
    picked = p[torch.arange(len(t)), t]
    log_p = torch.log_softmax(x, dim=-1)
    return {
        NO_MINUS: -F.cross_entropy(x, t),
        ALL_TARGETS: -log_p[:, t].mean(),
        ON_PROBS: F.cross_entropy(p, t),
        NO_LOG: -picked.mean(),
        NO_SOFTMAX: -x[torch.arange(len(t)), t].mean(),
        SUM: F.cross_entropy(x, t, reduction="sum"),
    }


@check(STEP, "cross_entropy matches F.cross_entropy, value and gradient", 2)
def cross_entropy_values(ctx: Context):
    for bs, classes in ((5, 10), (64, 10), (7, 3)):
        base = torch.randn(bs, classes) * 2
        t = torch.randint(0, classes, (bs,))
        got = ctx.learner.observe(loss_and_gradient, "cross_entropy", base, t)
        loss = as_tensor(got["loss"], "cross_entropy")
        what = f"cross_entropy on a batch of {bs}"
        expect_tensor(loss.detach(), F.cross_entropy(base, t), what, cross_entropy_variants(base, t))
        if not loss.requires_grad or got["grad"] is None:
            raise Fail("the loss carries no gradient",
                       mistake="the result was detached (.item(), .data or a new tensor)")
        want = base.clone().requires_grad_()
        F.cross_entropy(want, t).backward()
        expect_tensor(got["grad"], want.grad, "d loss / d logits")


@check(STEP, "cross_entropy is finite and right on confident logits (1000)", 1)
def cross_entropy_stable(ctx: Context):
    x = torch.tensor([[1000.0, 0.0, -1000.0], [0.0, 1000.0, 500.0], [1000.0, 0.0, 0.0]])
    t = torch.tensor([1, 2, 0])
    got = as_tensor(ctx.learner.cross_entropy(x, t), "cross_entropy")
    if got.numel() == 1 and not torch.isfinite(got).all():
        raise Fail(f"cross_entropy of logits around 1000 is {got.item()}, expected 500.0", mistake=LOG_OF_SOFTMAX)
    expect_tensor(got, F.cross_entropy(x, t), "cross_entropy of logits around 1000", atol=1e-3)


@check(STEP, "multiclass_accuracy: the share of rows whose largest logit is the target", 1)
def accuracy(ctx: Context):
    x = torch.tensor([[0.1, 2.0, -1.0], [3.0, 0.0, 0.5], [0.0, 0.1, 0.2], [-1.0, -2.0, -0.5], [5.0, 4.0, 6.0]])
    t = torch.tensor([1, 0, 0, 2, 1])
    got = as_tensor(ctx.learner.multiclass_accuracy(x, t), "multiclass_accuracy")
    if got.dim() != 0 or not got.is_floating_point():
        raise Fail(f"got shape {tuple(got.shape)} and dtype {got.dtype}: return a float scalar, .float().mean()")
    expect_tensor(got, torch.tensor(0.6), "multiclass_accuracy on 5 rows")
    for bs in (1, 50):
        x, t = torch.randn(bs, 10), torch.randint(0, 10, (bs,))
        got = as_tensor(ctx.learner.multiclass_accuracy(x, t), "multiclass_accuracy")
        expect_tensor(got.float(), (x.argmax(1) == t).float().mean(), f"multiclass_accuracy on {bs} rows")
