# Your exercise for step 'init_params'. Replace each `raise NotImplementedError(...)` with
# your code; keep the names and signatures. Stuck? `fastgroup hint init_params`.
"""Step 2 - initialising parameters (chapter section "Stochastic Gradient Descent").

Training starts from random numbers; PyTorch must be told to track their gradients.
"""

import torch


def init_params(size, std=1.0):
    """Random parameters of shape `size`: standard normal values scaled by `std`.

    The result must be a leaf tensor that requires gradients, so that `loss.backward()`
    fills its `.grad`. Weights for the linear model are `init_params((784, 1))`,
    its bias `init_params(1)`.

    >>> w = init_params((784, 1)); w.shape, w.requires_grad
    (torch.Size([784, 1]), True)
    """
    raise NotImplementedError("init_params: write init_params (fastgroup hint init_params helps)")
