# Your exercise for step 'batch_accuracy'. Replace each `raise NotImplementedError(...)` with
# your code; keep the names and signatures. Stuck? `fastgroup hint batch_accuracy`.
"""Step 7 - a metric (chapter section "Putting It All Together").

The metric is for people: the share of digits the model gets right.
"""

import torch  # noqa: F401  (the book's code for this step uses it, and so may yours)


def batch_accuracy(xb_preds, yb):
    """Share of correct predictions in a batch, as a scalar float tensor.

    `xb_preds` are logits (bs, 1) and `yb` targets (bs, 1). A prediction says "3" when its
    sigmoid is above 0.5 - the same as a logit above 0, *not* a logit above 0.5.

    >>> batch_accuracy(torch.tensor([[2.0], [-1.0]]), torch.tensor([[1.0], [1.0]]))
    tensor(0.5000)
    """
    raise NotImplementedError("batch_accuracy: write batch_accuracy (fastgroup hint batch_accuracy helps)")
