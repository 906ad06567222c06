# Your exercise for step 'calc_grad'. Replace each `raise NotImplementedError(...)` with
# your code; keep the names and signatures. Stuck? `fastgroup hint calc_grad`.
"""Step 5 - computing gradients (chapter section "Putting It All Together").

One forward pass, one loss, one backward pass: PyTorch fills `.grad` of every parameter.
"""

import torch  # noqa: F401  (the book's code for this step uses it, and so may yours)


def calc_grad(xb, yb, model, loss_func):
    """Run `model` on `xb`, compute `loss_func(predictions, yb)` and backpropagate.

    Returns nothing: the gradients land in the parameters' `.grad`. Do not zero them
    here: calling `calc_grad` twice must add the two gradients up, as PyTorch does.
    """
    raise NotImplementedError("calc_grad: write calc_grad (fastgroup hint calc_grad helps)")
