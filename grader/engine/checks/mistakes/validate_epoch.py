"""The mistakes learners make in validate_epoch(model, valid_dl, metric)."""

import torch

from grader.engine.checks.mistakes import BOOK, KIT_SUMMARY, LOOP_PITFALLS, NOTES_CH4
from grader.engine.diagnosis import mistake

TENSOR = "the result is still a tensor: turn it into a float with .item() (and round it)"
SUMMED = "the batch accuracies are added up: the epoch's accuracy is their mean"
LAST = "only the last batch's accuracy is returned (the loop overwrites it): keep every batch's and average them"
RESET = "`accs = [...]` inside the loop starts a new list at every batch: only the last batch is measured"
FIRST = "only the first batch is measured (a return inside the loop does that)"
ARGS = "the metric's arguments are swapped: metric(predictions, targets)"
SIGMOID = "the predictions go through a sigmoid before the metric, which applies its own: every item counts as a 3"
ROUNDED = "the accuracy is rounded to 2 digits: the chapter keeps 4"
PERCENT = "the accuracy is a percentage: the chapter's is a share between 0 and 1"


def mean_of(accs, digits=4, scale=1.0):
    return round(torch.stack(accs).mean().item() * scale, digits)


def returning(finish, order=lambda model, xb, yb, metric: metric(model(xb), yb)):
    def validate_epoch(model, valid_dl, metric):
        return finish([order(model, xb, yb, metric) for xb, yb in valid_dl])

    return validate_epoch


def last(model, valid_dl, metric):
    for xb, yb in valid_dl:
        acc = metric(model(xb), yb)
    return round(acc.item(), 4)


def reset(model, valid_dl, metric):
    for xb, yb in valid_dl:
        accs = [metric(model(xb), yb)]
    return round(torch.stack(accs).mean().item(), 4)


def first(model, valid_dl, metric):
    for xb, yb in valid_dl:
        return round(metric(model(xb), yb).item(), 4)


MISTAKES = [
    mistake(TENSOR, BOOK, validate_epoch=returning(lambda accs: torch.stack(accs).mean())),
    mistake(SUMMED, KIT_SUMMARY, validate_epoch=returning(lambda accs: round(torch.stack(accs).sum().item(), 4))),
    mistake(LAST, LOOP_PITFALLS, validate_epoch=last),
    mistake(RESET, LOOP_PITFALLS, validate_epoch=reset),
    mistake(FIRST, LOOP_PITFALLS, validate_epoch=first),
    mistake(ARGS, KIT_SUMMARY, made=r"metric\(\s*(yb|y|ys|targets?|labels?)\s*,",
            validate_epoch=returning(mean_of, lambda model, xb, yb, metric: metric(yb, model(xb)))),
    mistake(SIGMOID, NOTES_CH4,
            validate_epoch=returning(mean_of, lambda model, xb, yb, metric: metric(model(xb).sigmoid(), yb))),
    mistake(ROUNDED, NOTES_CH4, validate_epoch=returning(lambda accs: mean_of(accs, 2))),
    mistake(PERCENT, NOTES_CH4, validate_epoch=returning(lambda accs: mean_of(accs, 4, 100.0))),
]
