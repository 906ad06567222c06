# Your exercise for step 'multiclass_net'. Replace each `raise NotImplementedError(...)` with
# your code; keep the names and signatures. Stuck? `fastgroup hint multiclass_net`.
"""Bonus step 16 - a two-layer net for all ten digits, from scratch.

Like the chapter's simple net, with ten outputs. Deeper nets are sensitive to the size of
their starting weights: `randn` alone (std 1) makes the first layer's outputs about as large
as the square root of the number of lit pixels, and training swings wildly. Scaling each
weight matrix by sqrt(2 / fan_in), where fan_in is the number of inputs of its layer, keeps
the activations in a comfortable range through a ReLU.
"""

import math

import torch


def init_net10(n_hidden=64, n_classes=10):
    """Parameters `[w1, b1, w2, b2]` of a net 784 -> n_hidden -> n_classes: each weight matrix
    normal with std sqrt(2 / fan_in) (w1 (784, n_hidden), w2 (n_hidden, n_classes)), the
    biases zeros. All four are leaf tensors that require gradients.
    """
    raise NotImplementedError("multiclass_net: write init_net10 (fastgroup hint multiclass_net helps)")


def net10(xb, params):
    """Logits (bs, n_classes) for a batch `xb` (bs, 784): the first layer, a ReLU, the second
    layer. `params` is the list `[w1, b1, w2, b2]` from `init_net10`.
    """
    raise NotImplementedError("multiclass_net: write net10 (fastgroup hint multiclass_net helps)")
