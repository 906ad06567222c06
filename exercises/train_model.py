# Your exercise for step 'train_model'. Replace each `raise NotImplementedError(...)` with
# your code; keep the names and signatures. Stuck? `fastgroup hint train_model`.
"""Step 10 - the training loop (chapter section "Creating an Optimizer").

A model, an optimizer and the data: run epochs, validate after each one.
"""

import torch
from torch import nn


def new_model_and_opt(lr, opt_func):
    """A fresh `nn.Linear(784, 1)` and an optimizer `opt_func(params, lr)` over *its*
    parameters. Returns `(model, opt)`.

    An optimizer built on another model's parameters would train that other model.
    """
    raise NotImplementedError("train_model: write new_model_and_opt (fastgroup hint train_model helps)")


def train_model(model, dl, valid_dl, opt, epochs, loss_func, metric):
    """Train for `epochs` epochs and return the list of validation accuracies, one per epoch.

    An epoch: for each `(xb, yb)` of `dl`, loss of `model(xb)` with `loss_func`, backward,
    `opt.step()`, `opt.zero_grad()`. Then validate on `valid_dl` (never on `dl`): the mean of
    `metric` over its batches, as a float rounded to 4 digits.
    """
    raise NotImplementedError("train_model: write train_model (fastgroup hint train_model helps)")
