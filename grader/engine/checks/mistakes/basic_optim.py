"""The mistakes learners make in BasicOptim(params, lr): step() and zero_grad()."""

from grader.engine.checks.mistakes import BOOK, KIT_SUMMARY, LEAF_INPLACE, LOOP_PITFALLS, ZERO_GRAD_QA
from grader.engine.departure import NO_GRADIENT, SIGN_ONLY, ZEROED_PARAMS
from grader.engine.diagnosis import mistake

UPHILL = "the step goes uphill: subtract lr * grad"
NO_LR = "the learning rate is ignored"
GENERATOR = "params is a generator that was used up after one step(): keep list(params)"
IN_PLACE = "step() changes p in place (-=) outside torch.no_grad(): update p.data, or under torch.no_grad()"
REBOUND = "`p = p - lr * p.grad` in step() only rebinds a name: update p.data in place"
DIVIDED = "the gradient is divided by lr: the step is lr times the gradient"
FIRST_ONLY = "step() returns inside its loop: only the first parameter moves"
WRAPPED = "the parameters are kept as [params], a list holding one generator: keep list(params)"
ZERO_DATA = "zero_grad() zeroes the parameters' values (p.data), not their gradients"
ZERO_NOTHING = "zero_grad() leaves the gradients as they are"
ZERO_NUMBER = "zero_grad() sets .grad to the number 0: a gradient is a tensor or None (p.grad = None)"
STEP_CLEARS = "step() also clears the gradients, so a second step() does nothing until the next backward()"


def optim(step, zero_grad=None, keep=list):
    class BasicOptim:
        def __init__(self, params, lr):
            self.params, self.lr = keep(params), lr

        def step(self, *args, **kwargs):
            step(self)

        def zero_grad(self, *args, **kwargs):
            (zero_grad or clear)(self)

    return BasicOptim


def clear(self):
    for p in self.params:
        p.grad = None


def descend(self, rate=lambda g, lr: g * lr, sign=1.0):
    for p in self.params:
        p.data -= sign * rate(p.grad.data, self.lr)


def in_place(self):
    for p in self.params:
        p -= p.grad * self.lr


def rebound(self):
    for p in self.params:
        p = p - p.grad * self.lr  # noqa: PLW2901  (the mistake itself)


def first_only(self):
    for p in self.params:
        p.data -= p.grad.data * self.lr
        return


def zero_data(self):
    for p in self.params:
        p.data.zero_()


def no_gradient(self):
    for p in self.params:
        p.data -= self.lr


def sign_only(self):
    for p in self.params:
        p.data -= p.grad.data.sign() * self.lr


def zeroed(self):
    for p in self.params:
        p.data -= p.grad.data * self.lr
        p.data.zero_()


def zero_number(self):
    for p in self.params:
        p.grad = 0


def step_clears(self):
    for p in self.params:
        p.data -= p.grad.data * self.lr
        p.grad.zero_()


MISTAKES = [
    mistake(UPHILL, KIT_SUMMARY, BasicOptim=optim(lambda s: descend(s, sign=-1.0))),
    mistake(NO_LR, KIT_SUMMARY, BasicOptim=optim(lambda s: descend(s, lambda g, lr: g))),
    mistake(GENERATOR, BOOK, BasicOptim=optim(descend, keep=lambda p: p)),
    mistake(IN_PLACE, LEAF_INPLACE, BasicOptim=optim(in_place)),
    mistake(REBOUND, LEAF_INPLACE, BasicOptim=optim(rebound)),
    mistake(DIVIDED, KIT_SUMMARY, BasicOptim=optim(lambda s: descend(s, lambda g, lr: g / lr))),
    mistake(FIRST_ONLY, LOOP_PITFALLS, BasicOptim=optim(first_only)),
    mistake(WRAPPED, BOOK, BasicOptim=optim(descend, keep=lambda p: [p])),
    mistake(ZERO_DATA, ZERO_GRAD_QA, BasicOptim=optim(descend, zero_data)),
    mistake(ZERO_NOTHING, ZERO_GRAD_QA, BasicOptim=optim(descend, lambda s: None)),
    mistake(NO_GRADIENT, KIT_SUMMARY, BasicOptim=optim(no_gradient)),
    mistake(SIGN_ONLY, KIT_SUMMARY, BasicOptim=optim(sign_only)),
    mistake(ZEROED_PARAMS, ZERO_GRAD_QA, BasicOptim=optim(zeroed)),
    mistake(ZERO_NUMBER, ZERO_GRAD_QA, BasicOptim=optim(descend, zero_number)),
    mistake(STEP_CLEARS, LOOP_PITFALLS, BasicOptim=optim(step_clears)),
]
