"""The parts the kit plugs a step's code into: a loss, a metric, an optimizer, a model, a loop.

A check of one step must not depend on the learner's other steps, so the kit supplies them.
These run inside the sandbox (grader/engine/judges/observer.py), where the reference solutions are
never present, and beside the reference in the judge, so both runs are fed alike. They are
the chapter's definitions, short enough to write out (PyTorch's building blocks where that costs
nothing: F.cross_entropy).
"""

import functools

import torch
import torch.nn.functional as F
from torch import nn


def linear1(xb, weights, bias):
    return xb @ weights + bias


def init_params(size, std=1.0):
    return (torch.randn(size) * std).requires_grad_()


def mnist_loss(predictions, targets):
    p = predictions.sigmoid()
    return torch.where(targets == 1, 1 - p, p).mean()


def batch_accuracy(xb, yb):
    return ((xb > 0) == yb).float().mean()


class SGD:
    """Plain SGD with BasicOptim's interface (params, lr, step, zero_grad). Not torch.optim.SGD:
    its first step imports torch._dynamo, a second or more on every grade."""

    def __init__(self, params, lr):
        self.params, self.lr = list(params), lr

    def step(self, *args, **kwargs):
        for p in self.params:
            if p.grad is not None:  # as torch.optim does: a parameter without a gradient stays
                p.data -= p.grad.data * self.lr

    def zero_grad(self, *args, **kwargs):
        for p in self.params:
            p.grad = None


def simple_net_module(n_hidden=30):
    return nn.Sequential(nn.Linear(28 * 28, n_hidden), nn.ReLU(), nn.Linear(n_hidden, 1))


def cross_entropy(logits, targets):
    return F.cross_entropy(logits, targets)


def multiclass_accuracy(logits, targets):
    return (logits.argmax(dim=1) == targets).float().mean()


def fit(model, dl, epochs, loss_func, opt):
    """The chapter's loop: for every batch, loss, backward, step, zero_grad."""
    for _ in range(epochs):
        for xb, yb in dl:
            loss_func(model(xb), yb).backward()
            opt.step()
            opt.zero_grad()


def fit10(model, params, dl, valid_dl, lr, epochs, loss_func, metric):
    """fit10's contract (multiclass_linear) with plain SGD on `params`."""
    fit(model, dl, epochs, loss_func, SGD(params, lr))
    return []


def fused_adam(learn) -> None:
    """Give a fastai Learner whose optimizer is fastai's Adam (the default, or `Adam` with any of
    its settings) the same optimizer as one fused PyTorch kernel.

    fastai's Adam steps each of ResNet-18's 62 tensors in Python, a third of an epoch on a CPU;
    torch's fused Adam does the same arithmetic in one pass (bench/RESULTS.md): the same
    moments, bias correction, eps and weight decay, none on norm and bias parameters unless the
    Learner asks for it. Any other optimizer is the learner's choice and is left alone.
    """
    import inspect

    from fastai.learner import Learner
    from fastai.optimizer import Adam

    if not isinstance(learn, Learner) or learn.opt is not None:
        return  # not a Learner (its check says so), or one that made its optimizer already
    func, given = learn.opt_func, {}
    if isinstance(func, functools.partial) and not func.args:
        func, given = func.func, dict(func.keywords)
    if func is not Adam or any(p.device.type not in ("cpu", "cuda") for p in learn.model.parameters()):
        return
    hp = {k: v.default for k, v in inspect.signature(Adam).parameters.items() if v.default is not v.empty}
    if not given.keys() <= hp.keys() | {"lr"}:
        return  # a setting Adam does not take: fastai's own Adam says so when the run starts
    hp.update(given)
    if "lr" in given:
        learn.lr = given["lr"]  # as fastai's create_opt does
    groups = fused_groups(learn)
    torch_adam = torch.optim.AdamW if hp["decouple_wd"] else torch.optim.Adam  # true weight decay or L2
    opt = torch_adam(groups, lr=learn.lr, betas=(hp["mom"], hp["sqr_mom"]), eps=hp["eps"], weight_decay=hp["wd"],
                     fused=True)
    learn.opt = _wrapper()(opt=opt)


def fused_groups(learn) -> list[dict]:
    """fastai's parameter groups (the splitter's), each split in two where the Learner exempts
    norm and bias parameters from weight decay (fastai's default, `wd_bn_bias=False`)."""
    from fastai.torch_core import norm_bias_params

    split = list(learn.splitter(learn.model))
    if split and isinstance(split[0], torch.Tensor):
        split = [split]  # one group of parameters
    exempt = set() if learn.wd_bn_bias else {id(p) for p in norm_bias_params(learn.model, with_bias=True)}
    groups = []
    for params in split:
        groups.append({"params": [p for p in params if id(p) not in exempt]})
        groups.append({"params": [p for p in params if id(p) in exempt], "weight_decay": 0.0, "no_decay": True})
    return [g for g in groups if g["params"]]


@functools.cache
def _wrapper():
    """fastai's wrapper for a PyTorch optimizer, keeping the exempt groups' weight decay at zero
    when fit sets the Learner's `wd` on every group."""
    from fastai.optimizer import OptimWrapper

    class KeepExempt(OptimWrapper):
        def _set_hyper(self, k, v):
            super()._set_hyper(k, v)
            for group in self.opt.param_groups:
                if group.get("no_decay"):
                    group["weight_decay"] = 0.0

    return KeepExempt
