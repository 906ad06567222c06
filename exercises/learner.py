# Your exercise for step 'learner'. Replace each `raise NotImplementedError(...)` with
# your code; keep the names and signatures. Stuck? `fastgroup hint learner`.
"""Step 12 - fastai's Learner (chapter section "Creating an Optimizer").

`Learner` bundles the data, the model, the optimizer, the loss and the metric; `fit` runs
the loop you wrote in `train_model`.
"""

from fastai.learner import Learner
from fastai.optimizer import SGD


def make_learner(dls, model, loss_func, metric):
    """A fastai `Learner` over `dls` and `model` that optimises with plain `SGD`, uses
    `loss_func` as its loss and reports `metric`.

    The grader calls `fit(epochs, lr)` on what you return.
    """
    raise NotImplementedError("learner: write make_learner (fastgroup hint learner helps)")
