"""The mistakes learners make in init_params(size, std=1.0)."""

import torch

from grader.engine.checks.mistakes import BACKPROP_QA, BOOK, KIT_SUMMARY, LEAF_INPLACE, NOTES_CH4, NOTES_SCRATCH
from grader.engine.diagnosis import mistake

FORGOTTEN = "requires_grad_() was forgotten: without it backward() leaves .grad empty"
TOO_EARLY = ("gradients were switched on (requires_grad_() or requires_grad=True) before the multiplication by std: "
             "scale first, then call requires_grad_() on the result")
UNIFORM = "torch.rand is uniform: use torch.randn"
NO_STD = "std is ignored"
ZEROS = "the parameters start at zero: the chapter draws them at random, torch.randn(size) * std"
IN_PLACE = ("the new weights are changed in place (*=, mul_ ...) after requires_grad_(), which PyTorch forbids on a "
            "leaf: scale them first, then call requires_grad_()")
SQUARED = "std is squared: the values are multiplied by std itself"


def rg(t):
    return t.requires_grad_()


def scaled_in_place(size, std=1.0):
    t = torch.randn(size).requires_grad_()
    t *= std
    return t


MISTAKES = [
    mistake(FORGOTTEN, BACKPROP_QA, init_params=lambda size, std=1.0: torch.randn(size) * std),
    mistake(TOO_EARLY, LEAF_INPLACE, init_params=lambda size, std=1.0: torch.randn(size, requires_grad=True) * std),
    mistake(UNIFORM, NOTES_SCRATCH, init_params=lambda size, std=1.0: rg(torch.rand(size) * std)),
    mistake(NO_STD, KIT_SUMMARY, init_params=lambda size, std=1.0: rg(torch.randn(size))),
    mistake(ZEROS, NOTES_CH4, init_params=lambda size, std=1.0: rg(torch.zeros(size))),
    mistake(IN_PLACE, LEAF_INPLACE, init_params=scaled_in_place),
    mistake(SQUARED, BOOK, init_params=lambda size, std=1.0: rg(torch.randn(size) * std ** 2)),
]
