"""The chapter's SGD loop, with one typical mistake planted on request.

Checks run it beside the learner's code on the same seed and batches: when the learner's
result matches a planted run, that run's mistake is the one named. Written once for every
step that trains by hand (train_epoch, train_model, multiclass_linear, my_learner).
"""

import torch


def planted_fit(
    model,
    dl,
    epochs: int,
    loss_func,
    *,
    params=None,
    lr: float | None = None,
    opt=None,
    valid_dl=None,
    metric=None,
    sign: float = 1.0,
    use_lr: bool = True,
    zero: bool = True,
    on_train: bool = False,
) -> list[float]:
    """Train `epochs` epochs; returns the accuracy after each one (empty without a metric).

    The update is `opt.step()` when an optimizer is given, else `p.data -= lr * p.grad` on
    `params`. Mistakes: `sign=-1` goes uphill, `use_lr=False` ignores lr, `zero=False` never
    clears the gradients, `on_train=True` validates on the training batches.
    """
    curve = []
    for _ in range(epochs):
        for xb, yb in dl:
            loss_func(model(xb), yb).backward()
            if opt is not None:
                opt.step()
                if zero:
                    opt.zero_grad()
                continue
            for p in params:
                p.data -= sign * p.grad * (lr if use_lr else 1.0)
                if zero:
                    p.grad.zero_()
        if metric is not None:
            with torch.no_grad():
                accs = [metric(model(xb), yb) for xb, yb in (dl if on_train else valid_dl)]
            curve.append(round(torch.stack(accs).mean().item(), 4))
    return curve
