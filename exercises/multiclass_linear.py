# Your exercise for step 'multiclass_linear'. Replace each `raise NotImplementedError(...)` with
# your code; keep the names and signatures. Stuck? `fastgroup hint multiclass_linear`.
"""Bonus step 15 - a linear model for all ten digits, trained by your own loop.

The chapter's linear model gave one number per image (three or not). Ten classes need ten:
a weight matrix (784, 10) and a bias (10,). The loop is the one you know, with
cross-entropy as the loss and the 10-class accuracy as the metric (both passed in).
"""

import torch


def init_linear10(n_classes=10, std=0.01):
    """Parameters of a linear model from 784 pixels to `n_classes` logits: weights
    (784, n_classes) and bias (n_classes,), normal values times `std`, both leaf tensors that
    require gradients. Returns `(weights, bias)`.
    """
    raise NotImplementedError("multiclass_linear: write init_linear10 (fastgroup hint multiclass_linear helps)")


def linear10(xb, weights, bias):
    """Logits for a batch: `xb` (bs, 784) times `weights` plus `bias`, shape (bs, n_classes)."""
    raise NotImplementedError("multiclass_linear: write linear10 (fastgroup hint multiclass_linear helps)")


def fit10(model, params, dl, valid_dl, lr, epochs, loss_func, metric):
    """Train `model` (a function of a batch) by plain SGD on `params` for `epochs` epochs and
    return the validation metric after each epoch, as a list of floats.

    For every batch `(xb, yb)` of `dl`: loss of `model(xb)` against `yb`, backward, then for
    each parameter subtract `lr` times its gradient and clear the gradient. After each
    epoch measure `metric` on `valid_dl` (mean over its batches, no gradients needed).
    """
    raise NotImplementedError("multiclass_linear: write fit10 (fastgroup hint multiclass_linear helps)")
