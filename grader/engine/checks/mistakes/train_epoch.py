"""The mistakes learners make in train_epoch(model, dl, lr, params, loss_func)."""

from grader.engine.checks.mistakes import (
    BACKPROP_QA,
    KIT_SUMMARY,
    LEAF_INPLACE,
    LOOP_PITFALLS,
    ZERO_GRAD_QA,
)
from grader.engine.checks.mistakes._loops import CUT_SOURCES, GRAPH_CUTS, MADE, loss_of
from grader.engine.checks.train_epoch import NO_LR, NOT_ZEROED, WRONG_SIGN, loss_given
from grader.engine.departure import NO_GRADIENT, SIGN_ONLY
from grader.engine.departure import ZEROED_PARAMS as DATA_ZEROED
from grader.engine.diagnosis import mistake

REBOUND = "`p = p - lr * p.grad` only makes a new tensor: the parameters never change"
ZERO_FIRST = "the gradient is zeroed before the step uses it: the parameters never change"
NONE_YET = ("a .grad is zeroed before any backward() has filled it (it is None until then): zero it after the "
            "update")
REBOUND_ZERO = ("`p = p - lr * p.grad` makes a new tensor, whose .grad is None, so p.grad.zero_() fails: update "
                "p.data in place")
IN_PLACE = "the update changes p in place (-=) outside torch.no_grad(): update p.data, or under torch.no_grad()"
ZEROED_PARAMS = "the parameters are zeroed (p.zero_()), not their gradients (p.grad.zero_())"
ONCE = "the update comes after the loop over batches: one step an epoch, from the last batch's gradient"
LAST_ZEROED = "only the last parameter's gradient is zeroed: p.grad.zero_() sits outside the loop over params"
FIRST_ONLY = "only the first parameter is updated: the bias never moves"


def epoch(update, how=""):
    """train_epoch with the chapter's loop around `update(params, lr)` (called after each backward)."""

    def train_epoch(model, dl, lr, params, loss_func):
        for xb, yb in dl:
            loss_of(model, xb, yb, loss_func, how).backward()
            update(params, lr)

    return train_epoch


def right(params, lr, sign=1.0, rate=True, zero=True):
    for p in params:
        p.data -= sign * p.grad * (lr if rate else 1.0)
        if zero:
            p.grad.zero_()


def no_gradient(params, lr):
    for p in params:
        p.data -= lr
        p.grad.zero_()


def sign_only(params, lr):
    for p in params:
        p.data -= p.grad.sign() * lr
        p.grad.zero_()


def data_zeroed(params, lr):
    for p in params:
        p.data -= p.grad * lr
        p.data.zero_()  # where p.grad.zero_() was meant: the gradients are never cleared either


def rebound(params, lr, zero=False):
    for p in params:
        p = p - p.grad * lr  # noqa: PLW2901  (the mistake itself)
        if zero:
            p.grad.zero_()


def zero_first(params, lr):
    for p in params:
        p.grad.zero_()
        p.data -= p.grad * lr


def in_place(params, lr):
    for p in params:
        p -= p.grad * lr
        p.grad.zero_()


def zeroed_params(params, lr):
    for p in params:
        p.data -= p.grad * lr
        p.zero_()


def last_zeroed(params, lr):
    for p in params:
        p.data -= p.grad * lr
    p.grad.zero_()


def first_only(params, lr):
    right(params[:1], lr)
    for p in params[1:]:
        p.grad.zero_()


def first_only_unzeroed(params, lr):
    right(params[:1], lr)


def none_yet(model, dl, lr, params, loss_func):
    for xb, yb in dl:
        for p in params:
            p.grad.zero_()
        loss_func(model(xb), yb).backward()
        right(params, lr, zero=False)


def once(model, dl, lr, params, loss_func):
    for xb, yb in dl:
        loss = loss_func(model(xb), yb)
    loss.backward()
    right(params, lr)


MISTAKES = [
    mistake(NOT_ZEROED, ZERO_GRAD_QA, train_epoch=epoch(lambda ps, lr: right(ps, lr, zero=False))),
    mistake(WRONG_SIGN, KIT_SUMMARY, train_epoch=epoch(lambda ps, lr: right(ps, lr, sign=-1.0))),
    mistake(NO_LR, BACKPROP_QA, train_epoch=epoch(lambda ps, lr: right(ps, lr, rate=False))),
    mistake(NO_GRADIENT, BACKPROP_QA, train_epoch=epoch(lambda ps, lr: no_gradient(ps, lr))),
    mistake(SIGN_ONLY, KIT_SUMMARY, train_epoch=epoch(sign_only)),
    mistake(DATA_ZEROED, ZERO_GRAD_QA, train_epoch=epoch(data_zeroed)),
    mistake(REBOUND, LEAF_INPLACE, train_epoch=epoch(rebound)),
    mistake(ZERO_FIRST, LOOP_PITFALLS, train_epoch=epoch(zero_first)),
    mistake(NONE_YET, LOOP_PITFALLS, train_epoch=none_yet),
    mistake(REBOUND_ZERO, LEAF_INPLACE, train_epoch=epoch(lambda ps, lr: rebound(ps, lr, zero=True))),
    mistake(IN_PLACE, LEAF_INPLACE, train_epoch=epoch(in_place)),
    mistake(ZEROED_PARAMS, LEAF_INPLACE, train_epoch=epoch(zeroed_params)),
    mistake(ONCE, LOOP_PITFALLS, train_epoch=once),
    mistake(LAST_ZEROED, ZERO_GRAD_QA, train_epoch=epoch(last_zeroed)),
    mistake(FIRST_ONLY, KIT_SUMMARY, train_epoch=epoch(first_only)),
    mistake(FIRST_ONLY, KIT_SUMMARY, train_epoch=epoch(first_only_unzeroed)),
    *(mistake(cause, CUT_SOURCES[how], made=MADE.get(how), train_epoch=epoch(right, how))
      for how, cause in GRAPH_CUTS.items()),
]

MORE = {"train_epoch.params_after": lambda seed, given: [(loss_given, given)]}
