# Your exercise for step 'validate_epoch'. Replace each `raise NotImplementedError(...)` with
# your code; keep the names and signatures. Stuck? `fastgroup hint validate_epoch`.
"""Step 8 - validating (chapter section "Putting It All Together").

After each epoch, measure the metric on data the model never trained on.
"""

import torch


def validate_epoch(model, valid_dl, metric):
    """Mean of `metric(model(xb), yb)` over the batches of `valid_dl`, as a Python float
    rounded to 4 digits.

    This is the mean of the per-batch means, as in the chapter: the last batch is smaller,
    so it differs a little from the accuracy over all items.
    """
    raise NotImplementedError("validate_epoch: write validate_epoch (fastgroup hint validate_epoch helps)")
