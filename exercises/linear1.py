# Your exercise for step 'linear1'. Replace each `raise NotImplementedError(...)` with
# your code; keep the names and signatures. Stuck? `fastgroup hint linear1`.
"""Step 3 - the data set and a linear model (chapter section "Stochastic Gradient Descent").

Images become rows of 784 pixels, labels become a column of ones (a 3) and zeros (a 7),
and a linear model turns each row into one number: a logit.
"""

import torch


def make_dataset(threes, sevens):
    """Turn stacks of 3s and 7s, each (N, 28, 28) floats, into the training pairs.

    Returns `(x, y)` with `x` of shape (N3 + N7, 784): threes first, then sevens, and `y`
    of shape (N3 + N7, 1): 1.0 for a three and 0.0 for a seven. `y` must be a column:
    with shape (N,) it would broadcast against (bs, 1) predictions into a (bs, bs) mess.
    """
    raise NotImplementedError("linear1: write make_dataset (fastgroup hint linear1 helps)")


def linear1(xb, weights, bias):
    """A linear model: each row of `xb` (bs, 784) times `weights` (784, 1), plus `bias` (1,).

    Returns logits of shape (bs, 1). One matrix multiplication does the whole batch.
    """
    raise NotImplementedError("linear1: write linear1 (fastgroup hint linear1 helps)")
