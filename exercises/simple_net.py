# Your exercise for step 'simple_net'. Replace each `raise NotImplementedError(...)` with
# your code; keep the names and signatures. Stuck? `fastgroup hint simple_net`.
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
    raise NotImplementedError("simple_net: write simple_net (fastgroup hint simple_net helps)")


def simple_net_module(n_hidden=30):
    """The same net from PyTorch modules: Linear(784, n_hidden), ReLU, Linear(n_hidden, 1).

    Every entry of `nn.Sequential` must be a module *instance*: `nn.ReLU()`, not `nn.ReLU`
    and not the function `F.relu`.
    """
    raise NotImplementedError("simple_net: write simple_net_module (fastgroup hint simple_net helps)")
