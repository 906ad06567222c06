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
        ### BEGIN SOLUTION
        self.params = list(params)
        self.lr = lr
        ### END SOLUTION

    def step(self, *args, **kwargs):
        """Move every parameter by `-lr` times its gradient, outside the autograd graph."""
        ### BEGIN SOLUTION
        for p in self.params:
            p.data -= p.grad.data * self.lr
        ### END SOLUTION

    def zero_grad(self, *args, **kwargs):
        """Forget the gradients, so the next backward pass starts from nothing."""
        ### BEGIN SOLUTION
        for p in self.params:
            p.grad = None
        ### END SOLUTION
