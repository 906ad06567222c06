"""The mistakes learners make in new_model_and_opt(lr, opt_func) and train_model(...)."""

import torch
from torch import nn

from grader.engine.checks.mistakes import BOOK, KIT_SUMMARY, LOOP_PITFALLS, ZERO_GRAD_QA
from grader.engine.checks.mistakes._loops import CUT_SOURCES, GRAPH_CUTS, MADE, loss_of
from grader.engine.checks.train_model import NOT_ZEROED, OLD_PARAMS, ON_TRAIN, loss_given
from grader.engine.diagnosis import mistake

FIXED_LR = "the optimizer ignores the lr given to new_model_and_opt: pass it on, opt_func(model.parameters(), lr)"
ZERO_FIRST = "opt.zero_grad() comes before opt.step(): the step finds no gradient, and nothing trains"
NO_STEP = "opt.step() is never called (without its parentheses it does nothing): nothing trains"
ON_VALID = "the model trains on valid_dl: it trains on dl and is measured on valid_dl"
LAST_ONLY = "train_model returns the last accuracy alone: it returns the list, one accuracy per epoch"
PER_BATCH = "the validation runs after every batch, not after every epoch"
ONE_EPOCH = "the loop over epochs is missing: one epoch is trained, whatever `epochs` says"


def made(lr, opt_func, rate=None, other=False):
    model = nn.Linear(28 * 28, 1)
    owner = nn.Linear(28 * 28, 1) if other else model
    return model, opt_func(owner.parameters(), lr if rate is None else rate)


def accuracy(model, valid_dl, metric):
    with torch.no_grad():
        accs = [metric(model(xb), yb) for xb, yb in valid_dl]
    return round(torch.stack(accs).mean().item(), 4)


def loop(batch, how="", on_train=False, per_batch=False, epochs_of=lambda n: n, finish=lambda accs: accs,
         on_valid=False):
    """The chapter's train_model with `batch(opt)` after each backward() and one change."""

    def train_model(model, dl, valid_dl, opt, epochs, loss_func, metric):
        accuracies = []
        for _ in range(epochs_of(epochs)):
            for xb, yb in valid_dl if on_valid else dl:
                loss_of(model, xb, yb, loss_func, how).backward()
                batch(opt)
                if per_batch:
                    accuracies.append(accuracy(model, valid_dl, metric))
            if not per_batch:
                accuracies.append(accuracy(model, dl if on_train else valid_dl, metric))
        return finish(accuracies)

    return train_model


def right(opt):
    opt.step()
    opt.zero_grad()


def zero_first(opt):
    opt.zero_grad()
    opt.step()


MISTAKES = [
    mistake(OLD_PARAMS, BOOK, new_model_and_opt=lambda lr, opt_func: made(lr, opt_func, other=True)),
    mistake(FIXED_LR, KIT_SUMMARY, new_model_and_opt=lambda lr, opt_func: made(lr, opt_func, rate=1.0)),
    mistake(NOT_ZEROED, ZERO_GRAD_QA, train_model=loop(lambda opt: opt.step())),
    mistake(ON_TRAIN, KIT_SUMMARY, train_model=loop(right, on_train=True)),
    mistake(ON_VALID, LOOP_PITFALLS, train_model=loop(right, on_valid=True)),
    mistake(ZERO_FIRST, LOOP_PITFALLS, train_model=loop(zero_first)),
    mistake(NO_STEP, LOOP_PITFALLS, train_model=loop(lambda opt: opt.zero_grad())),
    mistake(LAST_ONLY, LOOP_PITFALLS, train_model=loop(right, finish=lambda accs: accs[-1])),
    mistake(PER_BATCH, LOOP_PITFALLS, train_model=loop(right, per_batch=True)),
    mistake(ONE_EPOCH, LOOP_PITFALLS, train_model=loop(right, epochs_of=lambda n: 1)),
    *(mistake(cause, CUT_SOURCES[how], made=MADE.get(how), train_model=loop(right, how))
      for how, cause in GRAPH_CUTS.items()),
]

MORE = {"train_model.run_loop": lambda seed, given: [(loss_given, given)]}
