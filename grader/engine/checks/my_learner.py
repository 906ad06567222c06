"""Checks for bonus step my_learner: a Learner of the learner's own, held against fastai's."""

import math
from pathlib import Path
from types import SimpleNamespace

import torch
from torch import nn

from grader.core.steps import training as settings
from grader.engine import data as data_sources
from grader.engine import departure, drivers
from grader.engine.checks.base import Context, Fail, check, probe, same, training_check
from grader.engine.checks.planted import planted_fit
from grader.engine.checks.tenclass import trained_ten
from grader.engine.recipes.chapter import quiet
from grader.engine.recipes.ten_digits import dropout_net, epochs_of, loaders
from grader.engine.wire import type_name

STEP = "my_learner"
NOT_ZEROED = "the gradients are never zeroed (opt.zero_grad() after opt.step()), so each batch adds to the last"
ON_TRAIN = "validating on the training set: the validation phase must loop over dls.valid"
NO_EVAL = "model.eval() is not called before validating: dropout keeps dropping units while you measure"
NO_TRAIN = (
    "the model is not put back in training mode (model.train()) at the start of each training phase: "
    "after the first validation it stays in eval mode and dropout stops working"
)
GRAD_ON = "validation runs with gradients on: wrap it in torch.no_grad()"


def tiny_data(path, seed: int, train_bs=8, valid_bs=10):
    """48 training and 30 validation digits (3s and 7s, mixed) as plain lists of batches."""
    x, y = data_sources.load_xy(Path(path), "train")
    vx, vy = data_sources.load_xy(Path(path), "valid")
    gen = torch.Generator().manual_seed(seed)
    pick, vpick = torch.randperm(len(x), generator=gen)[:48], torch.randperm(len(vx), generator=gen)[:30]
    train = [(x[pick[i:i + train_bs]], y[pick[i:i + train_bs]]) for i in range(0, 48, train_bs)]
    valid = [(vx[vpick[i:i + valid_bs]], vy[vpick[i:i + valid_bs]]) for i in range(0, 30, valid_bs)]
    return SimpleNamespace(train=train, valid=valid)


@probe
def recorded(module, path, seed: int):
    """What MyLearner keeps after fit(2) then fit(1)."""
    learn = module.MyLearner(tiny_data(path, seed), nn.Linear(784, 1), drivers.mnist_loss, drivers.SGD,
                             drivers.batch_accuracy, 0.5)
    learn.fit(2)
    learn.fit(1)
    return {name: getattr(learn, name, None) for name in ("train_losses", "valid_losses", "metrics")}


@check(STEP, "fit records one training loss, validation loss and metric per epoch", 1)
def records(ctx: Context):
    got = ctx.learner.observe(recorded, str(ctx.data_path), ctx.seed)
    if not isinstance(got, dict):
        raise Fail(f"the records came back as {type_name(got)}")
    module = ctx.ref.load()
    ctx.reseed()
    want = recorded(module, str(ctx.data_path), ctx.seed)  # the figures are the judge's, not the sandbox's
    for name in ("train_losses", "valid_losses", "metrics"):
        values = got.get(name)
        if not isinstance(values, list | tuple) or len(values) != 3:
            raise Fail(f"after fit(2) then fit(1), learn.{name} is {values!r:.80}; expected a list of 3 numbers")
        if not all(isinstance(v, float | int) and not isinstance(v, bool) for v in values):
            raise Fail(f"learn.{name} holds {type_name(values[0])} values: keep Python floats (.item())")
        if not all(math.isfinite(v) and abs(v - w) < 1e-4 for v, w in zip(values, want[name], strict=True)):
            raise Fail(f"learn.{name} is {rounded(values)}; the reference's records {rounded(want[name])} on the "
                       "same data and seed (each the mean over the epoch's items)")


class Spy(nn.Module):
    """Notes the mode and the gradient switch of every forward pass, by batch size."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def forward(self, x):
        self.seen.append((len(x), self.training, torch.is_grad_enabled()))
        return x


@probe
def modes_seen(module, path, seed: int):
    """(batch size, training mode, gradients on) of every forward pass of fit(2)."""
    spy = Spy()
    model = nn.Sequential(spy, nn.Linear(784, 1), nn.Dropout(0.0))
    learn = module.MyLearner(tiny_data(path, seed, train_bs=8, valid_bs=10), model, drivers.mnist_loss,
                             drivers.SGD, drivers.batch_accuracy, 0.5)
    learn.fit(2)
    return [list(s) for s in spy.seen]


@check(STEP, "training phase in train mode; validation in eval mode without gradients", 2)
def modes(ctx: Context):
    seen = ctx.learner.observe(modes_seen, str(ctx.data_path), ctx.seed)
    if not isinstance(seen, list) or not all(isinstance(s, list) and len(s) == 3 for s in seen):
        raise Fail("the forward passes of fit(2) could not be read")
    train = [s for s in seen if s[0] == 8]
    valid = [s for s in seen if s[0] == 10]
    if len(train) != 12 or len(valid) != 6:
        raise Fail(f"fit(2) ran {len(train)} training and {len(valid)} validation batches; expected 12 and 6 "
                   "(every batch of dls.train, then every batch of dls.valid, each epoch)",
                   mistake=ON_TRAIN if not valid and len(train) > 12 else None)
    if any(training for _, training, _ in valid):
        raise Fail("the model was in training mode during validation", mistake=NO_EVAL)
    if not all(training for _, training, _ in train):
        raise Fail("the model was in eval mode during a training phase", mistake=NO_TRAIN)
    if any(grad for _, _, grad in valid):
        raise Fail("gradients were tracked during validation", mistake=GRAD_ON)


MODELS = {"linear": (lambda: nn.Linear(784, 1), 1.0), "net": (drivers.simple_net_module, 0.1)}


def start_model(which: str, seed: int, device):
    torch.manual_seed(seed)
    return MODELS[which][0]().to(device)


def loop_loaders(path, device: str, fastai: bool = True):
    """The loaders two training loops are compared on: the view's training digits, every fifth
    held out as the validation set. Their labels are public; the view's validation labels are
    not (they stay with the judge, in an order drawn anew for every grade), so a cached run of
    fastai's could never be compared with a run on them."""
    if fastai:
        from fastai.data.load import DataLoader
    else:
        from torch.utils.data import DataLoader

    x, y = data_sources.load_xy(Path(path), "train")
    held = torch.arange(len(x)) % 5 == 4
    train = list(zip(x[~held].to(device), y[~held].to(device)))
    valid = list(zip(x[held].to(device), y[held].to(device)))
    return DataLoader(train, batch_size=64), DataLoader(valid, batch_size=data_sources.VALID_BS)


def fastai_run(path, source, which: str, seed: int, device, epochs=3):
    """fastai's Learner with SGD, the chapter's loss and metric; (valid losses, metrics, params).
    Cached per data, seed and device, so that a judge imports fastai only the first time."""
    from grader.engine import thresholds

    def run():
        losses, metrics, params = train_with_fastai(path, which, seed, device, epochs)
        return [losses, metrics, params.tolist()]

    losses, metrics, params = thresholds.cached(
        f"my_learner-fastai-{which}{epochs}", source, seed, device.type, run, code=Path(__file__),
        valid=lambda got: isinstance(got, list) and len(got) == 3,
    )
    return losses, metrics, torch.tensor(params)


def train_with_fastai(path, which: str, seed: int, device, epochs: int):
    from fastai.data.core import DataLoaders
    from fastai.learner import Learner
    from fastai.optimizer import SGD

    from grader.engine.recipes.chapter import fit_fastai, prediction_recorder

    model, lr = start_model(which, seed, device), MODELS[which][1]
    dls = DataLoaders(*loop_loaders(path, device.type), device=device)
    learn = Learner(dls, model, loss_func=drivers.mnist_loss, opt_func=SGD, metrics=drivers.batch_accuracy)
    fit_fastai(learn, lambda: learn.fit(epochs, lr=lr), prediction_recorder(lambda *a: None, epochs, lambda p: p))
    values = learn.recorder.values
    return [float(v[1]) for v in values], [float(v[2]) for v in values], flat(model)


def flat(model):
    return torch.cat([p.detach().view(-1) for p in model.parameters()])


@probe
def own_run(module, path, which: str, seed: int, device: str, valid_on_train=False, fastai_sgd=False, epochs=3):
    """module.MyLearner on the chapter's model `which`: (valid losses, metrics, trained params)."""
    from fastai.data.core import DataLoaders

    model, lr = start_model(which, seed, torch.device(device)), MODELS[which][1]
    dl, valid_dl = loop_loaders(path, device)
    dls = DataLoaders(dl, dl if valid_on_train else valid_dl, device=torch.device(device))
    if fastai_sgd:
        from fastai.optimizer import SGD as opt  # noqa: N813  (fastai's optimizer, as MyLearner gets it)
    else:
        opt = drivers.SGD
    learn = module.MyLearner(dls, model, drivers.mnist_loss, opt, drivers.batch_accuracy, lr)
    learn.fit(epochs)
    return [list(getattr(learn, "valid_losses", None) or []), list(getattr(learn, "metrics", None) or []),
            flat(model)]


def unzeroed_params(path, which: str, seed: int, device, epochs=3):
    model, lr = start_model(which, seed, device), MODELS[which][1]
    dl, _ = loop_loaders(path, device.type, fastai=False)
    planted_fit(model, dl, epochs, drivers.mnist_loss, opt=drivers.SGD(model.parameters(), lr), zero=False)
    return flat(model)


TRACED_BATCHES = 4


@probe
def own_trace(module, path, seed: int):
    """fit(1) of module.MyLearner with nn.Linear and SGD at lr 1.0 on tiny_data, recorded at each
    call of the loss (departure.recorder)."""
    data = tiny_data(path, seed)
    torch.manual_seed(seed)
    model = nn.Linear(784, 1)
    loss_func, trace = departure.recorder(drivers.mnist_loss, model.parameters(), TRACED_BATCHES)
    module.MyLearner(data, model, loss_func, drivers.SGD, drivers.batch_accuracy, 1.0).fit(1)
    return trace()


def where_it_left(ctx: Context) -> departure.Departure | None:
    """Where the learner's training phase first leaves the reference's, batch by batch."""
    path = str(ctx.data_path)
    trace = ctx.learner.observe(own_trace, path, ctx.seed)
    batches = tiny_data(path, ctx.seed).train[:TRACED_BATCHES]
    return departure.first_departure(trace, batches, 1.0, departure.linear_forward, drivers.mnist_loss)


@check(STEP, "trains the chapter's models like fastai's Learner (same seed, same data)", 3, limit="like_fastai")
def like_fastai(ctx: Context):
    path = str(ctx.data_path)
    for name, which, fastai_sgd in (("nn.Linear(784, 1)", "linear", False), ("the two-layer net", "net", True)):
        want_losses, want_metrics, want_params = fastai_run(path, ctx.view.source, which, ctx.seed, ctx.device)
        run = ctx.learner.observe(own_run, path, which, ctx.seed, ctx.device.type, fastai_sgd=fastai_sgd)
        losses, metrics, params = (list(run) + [None, None, None])[:3]
        if not same(params, want_params, atol=1e-4):
            found = where_it_left(ctx) if which == "linear" else None  # after a failure only: four batches
            if found:
                mistake = NOT_ZEROED if found.cause == departure.NOT_ZEROED else found.cause
                raise Fail(f"{name}: the trained parameters differ from fastai's\n  where it left the reference's "
                           f"run: {found.line}", mistake=mistake)
            if same(params, unzeroed_params(path, which, ctx.seed, ctx.device), atol=1e-4):
                raise Fail(f"{name}: the trained parameters differ from fastai's", mistake=NOT_ZEROED)
            raise Fail(f"{name}: after 3 epochs the parameters differ from those fastai's Learner trains: for every "
                       "training batch compute the loss, backward, opt.step(), opt.zero_grad()")
        losses, metrics = numbers(losses), numbers(metrics)
        if len(metrics) != 3 or len(losses) != 3:
            raise Fail(f"{name}: fit(3) recorded {len(metrics)} metrics and {len(losses)} validation losses")
        close = all(abs(a - b) < 1e-4 for a, b in zip(metrics + losses, want_metrics + want_losses))
        if not close:
            on_train = ctx.learner.observe(own_run, path, which, ctx.seed, ctx.device.type, valid_on_train=True,
                                           fastai_sgd=fastai_sgd)
            train_losses, train_metrics = numbers(on_train[0]), numbers(on_train[1])
            if all(abs(a - b) < 1e-6 for a, b in zip(metrics + losses, train_metrics + train_losses)):
                raise Fail(f"{name}: the metrics {rounded(metrics)} differ from fastai's {rounded(want_metrics)}",
                           mistake=ON_TRAIN)
            raise Fail(f"{name}: metrics {rounded(metrics)} and validation losses {rounded(losses)} differ from "
                       f"fastai's {rounded(want_metrics)} and {rounded(want_losses)}: average over all validation "
                       "items (weight each batch by its size)")


def numbers(values) -> list[float]:
    """Recorded values as floats (tensors of one number too); anything else is not counted."""
    out = []
    for v in values if isinstance(values, list | tuple) else []:
        if isinstance(v, torch.Tensor) and v.numel() == 1:
            v = v.item()
        if isinstance(v, float | int) and not isinstance(v, bool) and math.isfinite(v):
            out.append(float(v))
    return out


def rounded(values):
    return [round(v, 4) for v in values]


@training_check(STEP, "trains a 10-class net with dropout to the threshold ({epochs} epochs, lr {lr})", 2,
                run=trained_ten)
def recipe(module, path, seed=0, device="cpu", progress=quiet):
    """The dropout net trained by the step's MyLearner with plain SGD and cross-entropy."""
    s = settings("my_learner")
    dl, valid_dl = loaders(path, seed, s.bs, device)
    model = dropout_net().to(device)
    learn = module.MyLearner(SimpleNamespace(train=dl, valid=valid_dl), model, drivers.cross_entropy,
                             drivers.SGD, drivers.multiclass_accuracy, s.lr)

    def one_epoch():
        before = len(list(getattr(learn, "metrics", None) or []))
        learn.fit(1)
        after = len(list(getattr(learn, "metrics", None) or []))
        if after != before + 1:
            raise TypeError(f"fit(1) added {after - before} values to learn.metrics, expected 1")

    return epochs_of(one_epoch, model, path, device, s.epochs, progress)
