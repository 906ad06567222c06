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
        ### BEGIN SOLUTION
        self.dls, self.model = dls, model
        self.loss_func, self.metric = loss_func, metric
        self.opt = opt_func(list(model.parameters()), lr)
        self.train_losses, self.valid_losses, self.metrics = [], [], []
        ### END SOLUTION

    def fit(self, epochs):
        """Run `epochs` epochs, each a training phase then a validation phase, appending to
        the three records. Returns `self.metrics`.
        """
        ### BEGIN SOLUTION
        for _ in range(epochs):
            self.train_losses.append(self.train_phase())
            valid_loss, metric = self.valid_phase()
            self.valid_losses.append(valid_loss)
            self.metrics.append(metric)
        return self.metrics
        ### END SOLUTION

    def train_phase(self):
        """One pass over `dls.train` in training mode, updating the parameters after every
        batch; returns the mean training loss.
        """
        ### BEGIN SOLUTION
        self.model.train()
        total, count = 0.0, 0
        for xb, yb in self.dls.train:
            loss = self.loss_func(self.model(xb), yb)
            loss.backward()
            self.opt.step()
            self.opt.zero_grad()
            total += loss.item() * len(xb)
            count += len(xb)
        return total / count
        ### END SOLUTION

    def valid_phase(self):
        """One pass over `dls.valid` in evaluation mode without gradients; returns
        `(valid_loss, metric)`, each the mean over all validation items.
        """
        ### BEGIN SOLUTION
        self.model.eval()
        loss_sum, metric_sum, count = 0.0, 0.0, 0
        with torch.no_grad():
            for xb, yb in self.dls.valid:
                preds = self.model(xb)
                loss_sum += self.loss_func(preds, yb).item() * len(xb)
                metric_sum += float(self.metric(preds, yb)) * len(xb)
                count += len(xb)
        return loss_sum / count, metric_sum / count
        ### END SOLUTION
