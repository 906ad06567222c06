"""Checks for step train_model: new_model_and_opt and the training loop."""

from types import SimpleNamespace

import torch
from torch import nn

from grader.engine import data as data_sources
from grader.engine import departure, drivers
from grader.engine.checks.base import (
    Context,
    Fail,
    accuracy_list,
    check,
    probe,
    recording_loss,
    same,
    training_check,
)
from grader.engine.checks.planted import planted_fit
from grader.engine.recipes.chapter import epochs_of, loaders, quiet
from grader.engine.wire import type_name

STEP = "train_model"
OLD_PARAMS = (
    "the optimizer holds another model's parameters: build it from the new model's "
    "model.parameters()"
)
ON_TRAIN = "validating on the training set: measure the accuracy on valid_dl"
NOT_ZEROED = "the gradients are never zeroed (opt.zero_grad() after opt.step())"


@probe
def wiring_probe(module, x):
    """new_model_and_opt(0.5, SGD): the model's output on `x`, and its parameters before and
    after one opt.step() with every gradient set to 1 (the step shows which parameters the
    optimizer holds, and with what lr)."""
    result = module.new_model_and_opt(0.5, drivers.SGD)
    if not isinstance(result, tuple | list) or len(result) != 2:
        return {"pair": False}
    model, opt = result
    if not isinstance(model, nn.Module):
        return {"pair": True, "model": type(model).__name__}
    out = model(x)
    before = flat(model)
    for p in model.parameters():
        p.grad = torch.ones_like(p)
    opt.step()
    return {"pair": True, "model": "Module", "out": out, "before": before, "after": flat(model)}


def flat(model):
    return torch.cat([p.detach().view(-1) for p in model.parameters()])


@check(STEP, "new_model_and_opt: the optimizer works on the new model", 3)
def wiring(ctx: Context):
    got = ctx.learner.observe(wiring_probe, torch.rand(3, 784))
    if not got.get("pair"):
        raise Fail("new_model_and_opt should return (model, opt)")
    if got.get("model") != "Module":
        raise Fail(f"the model is a {got.get('model')}, expected an nn.Module")
    out, before, after = got.get("out"), got.get("before"), got.get("after")
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != (3, 1):
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type_name(out)
        raise Fail(f"the model turns 3 images into shape {shape}, expected (3, 1)")
    if not (isinstance(before, torch.Tensor) and isinstance(after, torch.Tensor)) or before.shape != after.shape:
        raise Fail("the model's parameters could not be read before and after opt.step()")
    if torch.equal(before, after):
        raise Fail("opt.step() left the model's parameters unchanged", mistake=OLD_PARAMS)
    moved = before - after
    if not torch.allclose(moved, torch.full_like(moved, 0.5), atol=1e-5):
        rate = moved.mean().item()
        raise Fail(f"with every gradient 1, opt.step() moved the parameters by {rate:.4g}, expected 0.5: "
                   "pass the lr given to new_model_and_opt to the optimizer")


def variant_loop(validate_on_train=False, zero=True):
    def train_model(model, dl, valid_dl, opt, epochs, loss_func, metric):
        return planted_fit(
            model, dl, epochs, loss_func, opt=opt, valid_dl=valid_dl, metric=metric, zero=zero,
            on_train=validate_on_train,
        )

    return train_model


def loop_data(ctx: Context):
    """78 real training digits, threes and sevens mixed: 48 to train on and 30 to validate on,
    whose labels are flipped so that accuracy measured on the wrong loader cannot match by
    chance. Never a validation digit: the sandbox must not see one with its label."""
    x, y = data_sources.load_xy(ctx.view.source, "train")
    gen = torch.Generator().manual_seed(0)
    pick = torch.randperm(len(x), generator=gen)[:78]
    pick, vpick = pick[:48], pick[48:]
    return x[pick], y[pick], x[vpick], 1 - y[vpick]


@probe
def run_loop(module, seed: int, x, y, vx, vy):
    """Three epochs of module.train_model on the given digits: its accuracies and the trained
    parameters of a seeded nn.Linear."""
    from torch.utils.data import DataLoader

    torch.manual_seed(seed)
    model = nn.Linear(784, 1)
    opt = drivers.SGD(model.parameters(), 1.0)
    accs = module.train_model(model, DataLoader(list(zip(x, y)), batch_size=8),
                              DataLoader(list(zip(vx, vy)), batch_size=10), opt, 3,
                              drivers.mnist_loss, drivers.batch_accuracy)
    return {"accs": accs, "params": flat(model)}


@probe
def loop_trace(module, seed: int, x, y, vx, vy):
    """One epoch of run_loop, recorded at each call of the loss (departure.recorder)."""
    from torch.utils.data import DataLoader

    torch.manual_seed(seed)
    model = nn.Linear(784, 1)
    loss_func, trace = departure.recorder(drivers.mnist_loss, model.parameters(), TRACED_BATCHES)
    module.train_model(model, DataLoader(list(zip(x, y)), batch_size=8), DataLoader(list(zip(vx, vy)), batch_size=10),
                       drivers.SGD(model.parameters(), 1.0), 1, loss_func, drivers.batch_accuracy)
    return trace()


TRACED_BATCHES = 4


@probe
def loss_given(module, seed: int, x, y, vx, vy):
    """What one epoch of run_loop hands its loss function at each batch (a diagnosis's evidence)."""
    from torch.utils.data import DataLoader

    torch.manual_seed(seed)
    model = nn.Linear(784, 1)
    loss_func, given = recording_loss(drivers.mnist_loss, model.parameters())
    module.train_model(model, DataLoader(list(zip(x, y)), batch_size=8), DataLoader(list(zip(vx, vy)), batch_size=10),
                       drivers.SGD(model.parameters(), 1.0), 1, loss_func, drivers.batch_accuracy)
    return given


def where_it_left(ctx: Context, data) -> departure.Departure | None:
    """Where the learner's loop first leaves the reference's, batch by batch (departure.py)."""
    x, y = data[0], data[1]
    batches = [(x[i:i + 8], y[i:i + 8]) for i in range(0, 8 * TRACED_BATCHES, 8)]
    trace = ctx.learner.observe(loop_trace, ctx.seed, *data)
    return departure.first_departure(trace, batches, 1.0, departure.linear_forward, drivers.mnist_loss)


def apart(got, want) -> str:
    """How far apart two parameter vectors are, in a few words (empty when they cannot be compared)."""
    if not isinstance(got, torch.Tensor) or got.shape != want.shape:
        return ""
    return f" (largest difference {(got.double() - want.double()).abs().max().item():.4g})"


def planted(**mistake):
    return SimpleNamespace(train_model=variant_loop(**mistake))


@check(STEP, "train_model trains like the reference and returns one validation accuracy per epoch", 3)
def loop(ctx: Context):
    data = loop_data(ctx)
    got = ctx.learner.observe(run_loop, ctx.seed, *data)
    want = run_loop(ctx.ref, ctx.seed, *data)
    if not same(got.get("params"), want["params"], atol=1e-4):
        found = where_it_left(ctx, data)  # only after a failure, on four batches of 8: cheap
        mistake = None
        if found and found.cause:
            mistake = NOT_ZEROED if found.cause == departure.NOT_ZEROED else found.cause
        elif (not found or not found.before_update) and same(
                got.get("params"), run_loop(planted(zero=False), ctx.seed, *data)["params"], atol=1e-4):
            mistake = NOT_ZEROED
        if found:
            said = f"\n  where it left the reference's run: {found.line}"
        else:
            said = "" if mistake else ": check the order loss, backward, opt.step(), opt.zero_grad() for every batch"
        raise Fail(f"the trained parameters differ from the reference's{apart(got.get('params'), want['params'])}"
                   f"{said}", mistake=mistake)
    accs = accuracy_list(got.get("accs"), 3, "train_model(..., epochs=3)")
    wanted = accuracy_list(want["accs"], 3, "the reference")
    on_train = accuracy_list(run_loop(planted(validate_on_train=True), ctx.seed, *data)["accs"], 3, "")
    probe = ("with the validation labels flipped (so that measuring on the wrong loader shows), your "
             f"train_model's accuracies are {accs}, the reference's {wanted}")
    if all(abs(g - w) < 1e-3 for g, w in zip(accs, on_train)) and on_train != wanted:
        raise Fail(f"{probe}: yours match accuracy measured on the training loader", mistake=ON_TRAIN)
    if not all(abs(g - w) <= 1e-3 for g, w in zip(accs, wanted)):  # NaN fails too
        raise Fail(probe)


@training_check(STEP, "your setup and loop train to the accuracy threshold ({epochs} epochs)", 4)
def recipe(module, path, device="cpu", progress=quiet):
    """The step's own setup (new_model_and_opt) and loop (train_model), one epoch at a time."""
    s, dl, valid_dl, valid_x = loaders(path, "train_model", device)
    with torch.device(device):
        model, opt = module.new_model_and_opt(s.lr, drivers.SGD)
    model.to(device)

    def one_epoch():
        accs = module.train_model(model, dl, valid_dl, opt, 1, drivers.mnist_loss, drivers.batch_accuracy)
        if not isinstance(accs, list | tuple) or len(accs) != 1:
            raise TypeError(f"train_model(..., epochs=1) should return a list of 1 accuracy, got {accs!r:.100}")

    return epochs_of(one_epoch, model, valid_x, s.epochs, progress)
