"""Step 11 - adding a non-linearity (chapter section "Adding a Nonlinearity").

Two linear layers with a ReLU between them can bend; without it they collapse into one.
"""

import torch  # noqa: F401  (the book's code for this step uses it, and so may yours)
from torch import nn


def simple_net(xb, w1, b1, w2, b2):
    """A two-layer net from scratch: `xb @ w1 + b1`, ReLU (negatives become 0),
    then `@ w2 + b2`.

    Shapes: `xb` (bs, 784), `w1` (784, 30), `b1` (30,), `w2` (30, 1), `b2` (1,);
    result (bs, 1).
    """
    ### BEGIN SOLUTION
    res = xb @ w1 + b1
    res = res.max(res.new_zeros(()))
    res = res @ w2 + b2
    return res
    ### END SOLUTION


def simple_net_module(n_hidden=30):
    """The same net from PyTorch modules: Linear(784, n_hidden), ReLU, Linear(n_hidden, 1).

    Every entry of `nn.Sequential` must be a module *instance*: `nn.ReLU()`, not `nn.ReLU`
    and not the function `F.relu`.
    """
    ### BEGIN SOLUTION
    return nn.Sequential(
        nn.Linear(28 * 28, n_hidden),
        nn.ReLU(),
        nn.Linear(n_hidden, 1),
    )
    ### END SOLUTION
