# Your exercise for step 'basic_optim'. Replace each `raise NotImplementedError(...)` with
# your code; keep the names and signatures. Stuck? `fastgroup hint basic_optim`.
"""Step 9 - an optimizer of our own (chapter section "Creating an Optimizer").

The update rule moves out of the training loop into an object with `step` and `zero_grad`,
the interface PyTorch's and fastai's optimizers share.
"""

import torch  # noqa: F401  (the book's code for this step uses it, and so may yours)


class BasicOptim:
    """Plain SGD: remembers the parameters and the learning rate."""

    def __init__(self, params, lr):
        """Keep `params` as a list (a generator such as `model.parameters()` can only be read
        once) and the learning rate `lr`."""
        raise NotImplementedError("basic_optim: write BasicOptim.__init__ (fastgroup hint basic_optim helps)")

    def step(self, *args, **kwargs):
        """Move every parameter by `-lr` times its gradient, outside the autograd graph."""
        raise NotImplementedError("basic_optim: write BasicOptim.step (fastgroup hint basic_optim helps)")

    def zero_grad(self, *args, **kwargs):
        """Forget the gradients, so the next backward pass starts from nothing."""
        raise NotImplementedError("basic_optim: write BasicOptim.zero_grad (fastgroup hint basic_optim helps)")
