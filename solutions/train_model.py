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
    ### BEGIN SOLUTION
    model = nn.Linear(28 * 28, 1)
    opt = opt_func(model.parameters(), lr)
    return model, opt
    ### END SOLUTION


def train_model(model, dl, valid_dl, opt, epochs, loss_func, metric):
    """Train for `epochs` epochs and return the list of validation accuracies, one per epoch.

    An epoch: for each `(xb, yb)` of `dl`, loss of `model(xb)` with `loss_func`, backward,
    `opt.step()`, `opt.zero_grad()`. Then validate on `valid_dl` (never on `dl`): the mean of
    `metric` over its batches, as a float rounded to 4 digits.
    """
    ### BEGIN SOLUTION
    accuracies = []
    for _ in range(epochs):
        for xb, yb in dl:
            loss = loss_func(model(xb), yb)
            loss.backward()
            opt.step()
            opt.zero_grad()
        with torch.no_grad():
            accs = [metric(model(xb), yb) for xb, yb in valid_dl]
        accuracies.append(round(torch.stack(accs).mean().item(), 4))
    return accuracies
    ### END SOLUTION
