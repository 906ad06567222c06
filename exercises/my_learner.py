# Your exercise for step 'my_learner'. Replace each `raise NotImplementedError(...)` with
# your code; keep the names and signatures. Stuck? `fastgroup hint my_learner`.
"""Bonus step 17 - a Learner of your own.

fastai's `Learner` bundles data, model, loss, optimizer and metric, and `fit` runs the loop.
Yours does the same in a few lines: each epoch has a training phase (the model in training
mode, the parameters updated batch by batch) and a validation phase (the model in evaluation
mode, no gradients, nothing updated), and it keeps a record of what happened.
"""

import torch


class MyLearner:
    """Train `model` on `dls.train` and measure it on `dls.valid` (`dls` is anything with
    those two loaders, fastai's `DataLoaders` for one).

    `opt_func(params, lr)` builds the optimizer (`BasicOptim`, fastai's `SGD` and
    `torch.optim.SGD` all fit); `loss_func(preds, targets)` is the loss and
    `metric(preds, targets)` the measure reported after each epoch.

    After `fit`, three lists hold one float per epoch so far: `train_losses` (the mean
    training loss over the epoch's items), `valid_losses` and `metrics` (each the mean over
    all validation items: weight every batch by its size, as fastai does).
    """

    def __init__(self, dls, model, loss_func, opt_func, metric, lr=0.1):
        raise NotImplementedError("my_learner: write MyLearner.__init__ (fastgroup hint my_learner helps)")

    def fit(self, epochs):
        """Run `epochs` epochs, each a training phase then a validation phase, appending to
        the three records. Returns `self.metrics`.
        """
        raise NotImplementedError("my_learner: write MyLearner.fit (fastgroup hint my_learner helps)")

    def train_phase(self):
        """One pass over `dls.train` in training mode, updating the parameters after every
        batch; returns the mean training loss.
        """
        raise NotImplementedError("my_learner: write MyLearner.train_phase (fastgroup hint my_learner helps)")

    def valid_phase(self):
        """One pass over `dls.valid` in evaluation mode without gradients; returns
        `(valid_loss, metric)`, each the mean over all validation items.
        """
        raise NotImplementedError("my_learner: write MyLearner.valid_phase (fastgroup hint my_learner helps)")
