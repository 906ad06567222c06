"""The mistakes learners make in calc_grad(xb, yb, model, loss_func)."""

from grader.engine.checks.calc_grad import loss_given
from grader.engine.checks.mistakes import BACKPROP_QA, CUT_GRAPH, KIT_SUMMARY, NO_GRAD_ERROR
from grader.engine.checks.mistakes._loops import BACKWARDS, GRAPH_CUTS, MADE, backward, loss_of
from grader.engine.diagnosis import mistake

NEVER = "loss.backward() was never called"
SOURCES = {"swapped": KIT_SUMMARY, "detach": NO_GRAD_ERROR, "data": CUT_GRAPH, "no_grad": CUT_GRAPH,
           "item": BACKPROP_QA, "twice": BACKPROP_QA, "on_preds": KIT_SUMMARY}


def cut(how):
    def calc_grad(xb, yb, model, loss_func):
        loss_of(model, xb, yb, loss_func, how).backward()

    return calc_grad


def backed(how):
    def calc_grad(xb, yb, model, loss_func):
        backward(loss_of(model, xb, yb, loss_func, ""), how, model, xb)

    return calc_grad


def never(xb, yb, model, loss_func):
    loss_func(model(xb), yb)  # and no backward() (loss.backward without its parentheses does the same)


MISTAKES = [
    mistake(NEVER, BACKPROP_QA, calc_grad=never),
    *(mistake(cause, SOURCES[how], made=MADE.get(how), calc_grad=cut(how)) for how, cause in GRAPH_CUTS.items()),
    *(mistake(cause, SOURCES[how], calc_grad=backed(how)) for how, cause in BACKWARDS.items()),
]

MORE = {"calc_grad.grads_after": lambda seed, given: [(loss_given, (seed,))]}
