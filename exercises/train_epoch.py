# Your exercise for step 'train_epoch'. Replace each `raise NotImplementedError(...)` with
# your code; keep the names and signatures. Stuck? `fastgroup hint train_epoch`.
"""Step 6 - one epoch of SGD by hand (chapter section "Putting It All Together").

For every mini-batch: predictions, loss, gradients, then a small step downhill.
"""

import torch  # noqa: F401  (handy for learners)


def train_epoch(model, dl, lr, params, loss_func):
    """Train `model` for one pass over the batches of `dl`.

    For each `(xb, yb)`: compute the loss of `model(xb)` against `yb` with `loss_func`,
    backpropagate, then for every tensor in `params` subtract `lr` times its gradient
    from it and zero its gradient. Update without recording the step in the graph
    (`p.data` or `torch.no_grad()`); zero the gradients or they accumulate.
    """
    raise NotImplementedError("train_epoch: write train_epoch (fastgroup hint train_epoch helps)")

