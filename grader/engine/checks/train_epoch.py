"""Checks for step train_epoch."""

from types import SimpleNamespace

import torch

from grader.engine import departure, drivers
from grader.engine.checks.base import Context, Fail, check, expect_tensor, probe, recording_loss, training_check
from grader.engine.checks.planted import planted_fit
from grader.engine.recipes.chapter import epochs_of, loaders, quiet

STEP = "train_epoch"
NOT_ZEROED = "the gradients are never zeroed, so each batch adds to the last ones"
WRONG_SIGN = "the step goes uphill: subtract lr * grad, do not add it"
NO_LR = "the learning rate is ignored: multiply the gradient by lr"
UNCHANGED = (
    "the parameters never change: the update does not reach the tensors the model uses. Several "
    "mistakes do that (`p = p - lr * p.grad` only makes a new tensor; so does updating a copy; or "
    "the gradient is cleared before the step): update each parameter in place, under "
    "torch.no_grad() or through p.data"
)


def variant_epoch(sign=1.0, use_lr=True, zero=True):
    """A train_epoch with one of the chapter's mistakes planted."""

    def train_epoch(model, dl, lr, params, loss_func):
        planted_fit(model, dl, 1, loss_func, params=params, lr=lr, sign=sign, use_lr=use_lr, zero=zero)

    return train_epoch


def start(seed: int):
    """Seeded weights (small: sigmoids not saturated), a bias and 3 small batches."""
    torch.manual_seed(seed)
    w = (torch.randn(784, 1) * 0.05).requires_grad_()
    b = torch.randn(1).requires_grad_()
    batches = [(torch.rand(4, 784), torch.randint(0, 2, (4, 1)).float()) for _ in range(3)]
    return w, b, batches


def flat(*tensors) -> torch.Tensor:
    return torch.cat([t.detach().reshape(-1) for t in tensors])


@probe
def params_after(module, seed: int, lr: float):
    """Parameters after one epoch of module.train_epoch over 3 small batches, from a seeded start."""
    w, b, batches = start(seed)
    module.train_epoch(lambda x: drivers.linear1(x, w, b), batches, lr, (w, b), drivers.mnist_loss)
    return flat(w, b)


@probe
def epoch_trace(module, seed: int, lr: float):
    """params_after's epoch, batch by batch: at each call of the loss, what it was given, the loss,
    and the parameters with the gradients they hold then (after the previous batch's step)."""
    w, b, batches = start(seed)
    loss_func, trace = departure.recorder(drivers.mnist_loss, (w, b), len(batches))
    module.train_epoch(lambda x: drivers.linear1(x, w, b), batches, lr, (w, b), loss_func)
    return trace()


@probe
def loss_given(module, seed: int, lr: float):
    """What params_after's epoch hands its loss function at each batch (a diagnosis's evidence)."""
    w, b, batches = start(seed)
    loss_func, given = recording_loss(drivers.mnist_loss, (w, b))
    module.train_epoch(lambda x: drivers.linear1(x, w, b), batches, lr, (w, b), loss_func)
    return given


def where_it_left(ctx: Context, lr: float) -> departure.Departure | None:
    """Where the learner's epoch first leaves the reference's (grader/engine/departure.py)."""
    _, _, batches = start(ctx.seed)
    trace = ctx.learner.observe(epoch_trace, ctx.seed, lr)
    return departure.first_departure(trace, batches, lr, departure.linear_forward, drivers.mnist_loss)


def planted(**mistake):
    return SimpleNamespace(train_epoch=variant_epoch(**mistake))


@check(STEP, "one epoch changes the parameters like the reference", 5)
def update(ctx: Context):
    lr = 0.3
    got = ctx.learner.observe(params_after, ctx.seed, lr)
    if isinstance(got, torch.Tensor) and torch.equal(got, params_after(SimpleNamespace(train_epoch=lambda *a: None),
                                                                      ctx.seed, lr)):
        raise Fail(UNCHANGED)  # more than one mistake looks like this: say what was seen, name none
    variants = {
        NOT_ZEROED: params_after(planted(zero=False), ctx.seed, lr),
        WRONG_SIGN: params_after(planted(sign=-1.0), ctx.seed, lr),
        NO_LR: params_after(planted(use_lr=False), ctx.seed, lr),
    }
    try:
        expect_tensor(got, params_after(ctx.ref, ctx.seed, lr), "parameters after one epoch", variants)
    except Fail as verdict:
        found = where_it_left(ctx, lr)  # only after a failure, on three small batches: cheap
        if found is None:
            raise
        # a catalogue mistake assumes the loss is right: a run that left before its update is not it
        mistake = found.cause or (None if found.before_update else verdict.mistake)
        raise Fail(f"{verdict.message}\n  where it left the reference's run: {found.line}", mistake=mistake,
                   difference=verdict.difference) from None


@training_check(STEP, "{epochs} epochs at lr {lr} reach the accuracy threshold", 5)
def recipe(module, path, device="cpu", progress=quiet):
    """Section "Putting It All Together": hand-made weights, the step's train_epoch."""
    s, dl, _, valid_x = loaders(path, "train_epoch", device)
    with torch.device(device):
        weights, bias = drivers.init_params((28 * 28, 1)), drivers.init_params(1)

    def model(xb):
        return drivers.linear1(xb, weights, bias)

    return epochs_of(lambda: module.train_epoch(model, dl, s.lr, (weights, bias), drivers.mnist_loss),
                     model, valid_x, s.epochs, progress)
