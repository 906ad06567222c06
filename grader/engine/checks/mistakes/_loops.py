"""Mistakes in the chapter's training code that several steps share: how the loss is called."""

from grader.engine.checks.mistakes import CUT_GRAPH, KIT_SUMMARY, NO_GRAD_ERROR

SWAPPED_LOSS = ("the loss is called as loss_func(targets, predictions): the predictions come first, "
                "loss_func(model(xb), yb); with them second the loss does not depend on the model at all, which "
                "is why backward() finds nothing to backpropagate")
DETACHED = "the predictions are cut from the graph with .detach() before the loss"
DATA = "the predictions are cut from the graph with .data before the loss"
NO_GRAD = "the predictions are computed under torch.no_grad(), so the loss has no graph to follow"
ITEM = "the loss became a Python number (as .item() or float() make it), which has no backward()"
TWICE = "backward() runs twice through the same graph: once per loss is all it takes"
ON_PREDS = "backward() is called on something with many values (the predictions?), not on the loss, one number"


def loss_of(model, xb, yb, loss_func, how: str):
    """The loss of a batch, computed the way a mistake computes it."""
    import torch

    if how == "swapped":
        return loss_func(yb, model(xb))
    if how == "detach":
        return loss_func(model(xb).detach(), yb)
    if how == "data":
        return loss_func(model(xb).data, yb)
    if how == "no_grad":
        with torch.no_grad():
            preds = model(xb)
        return loss_func(preds, yb)
    return loss_func(model(xb), yb)


def backward(loss, how: str, model=None, xb=None):
    if how == "item":
        loss.item().backward()
    elif how == "twice":
        loss.backward()
        loss.backward()
    elif how == "on_preds":
        model(xb).backward()
    else:
        loss.backward()


GRAPH_CUTS = {"swapped": SWAPPED_LOSS, "detach": DETACHED, "data": DATA, "no_grad": NO_GRAD}
BACKWARDS = {"item": ITEM, "twice": TWICE, "on_preds": ON_PREDS}
CUT_SOURCES = {"swapped": KIT_SUMMARY, "detach": NO_GRAD_ERROR, "data": CUT_GRAPH, "no_grad": CUT_GRAPH}
# the line that makes the wrong value: a loss called with the targets first
MADE = {"swapped": r"loss\w*\(\s*(yb|y|ys|y_?batch|targets?|labels?)\s*,"}
