"""The chapter's training runs, written once and fed either the learner's module (in the
sandbox) or the reference's (in the judge): `recipe(module, view_path, device, ...)`.

Each recipe is a probe (grader/engine/checks/base.py): it returns the digit it predicts for
every validation image of the view, after every epoch, in the view's canonical order
(grader/engine/views.py); it never sees the true labels, and the judge scores the
predictions. The parts around the step's own code (loss, optimizer, loop) are the kit's
(grader/engine/drivers.py). Settings (grader/core/steps.toml) follow the book except where the
800 training digits of the embedded set need otherwise; README and bench/RESULTS.md list why.
"""

from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from grader.core.steps import training as settings
from grader.engine import data as data_sources
from grader.engine import drivers
from grader.engine.probes import probe

Progress = Callable[..., None]


def _quiet(*message):
    pass


def binary_digits(logits: torch.Tensor) -> torch.Tensor:
    """A 3-vs-7 model's logits (N, 1) as digits: a positive logit says 3."""
    return torch.where(logits.detach().view(-1).cpu() > 0, 3, 7)


def outputs(model, valid_x: torch.Tensor) -> torch.Tensor:
    """A binary model's logits for the validation images, in eval mode, checked for shape."""
    if isinstance(model, nn.Module):
        model.eval()
    with torch.no_grad():
        out = model(valid_x)
    if isinstance(model, nn.Module):
        model.train()
    if not isinstance(out, torch.Tensor) or out.shape[0] != len(valid_x) or out[0].numel() != 1:
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise TypeError(f"the model turned {len(valid_x)} images into {shape}; expected ({len(valid_x)}, 1)")
    return out.detach().view(-1).cpu().float()


@probe(streams=True)
def pixel_similarity(module, path, device="cpu", progress=_quiet) -> list[torch.Tensor]:
    """The mean-image baseline: is_3 on every validation image at once."""
    stacks = {k: v.to(device) for k, v in data_sources.load_stacks(Path(path)).items()}
    mean3, mean7 = stacks["train3"].mean(0), stacks["train7"].mean(0)
    valid = torch.cat([stacks["valid3"], stacks["valid7"]])
    answers = module.is_3(valid, mean3, mean7)
    if not isinstance(answers, torch.Tensor) or tuple(answers.shape) != (len(valid),):
        shape = tuple(answers.shape) if isinstance(answers, torch.Tensor) else type(answers).__name__
        raise TypeError(
            f"is_3 on a stack of {len(valid)} images returned {shape}, not one answer per image "
            f"({len(valid)},): does mnist_distance average over the last two axes only?"
        )
    digits = torch.where(answers.bool().cpu(), 3, 7)
    progress(1, 1, digits)
    return {"epochs": [digits], "final": answers.detach().float().cpu()}


def loaders(path, step: str, device: str, fastai: bool = False):
    s = settings(step)
    dl, valid_dl = data_sources.make_loaders(Path(path), s.bs, device, fastai=fastai)
    valid_x, _ = data_sources.load_xy(Path(path), "valid")
    return s, dl, valid_dl, valid_x.to(device)


def epochs_of(run_epoch, model, valid_x, epochs: int, progress) -> dict:
    """Call `run_epoch()` `epochs` times: the predicted digits after each, and the final logits
    (the judge holds them against the reference's own run on the same seed)."""
    digits = []
    for epoch in range(epochs):
        run_epoch()
        logits = outputs(model, valid_x)
        digits.append(binary_digits(logits))
        progress(epoch + 1, epochs, digits[-1])
    return {"epochs": digits, "final": logits}


@probe(streams=True)
def linear_from_scratch(module, path, device="cpu", progress=_quiet):
    """Section "Putting It All Together": hand-made weights, the step's train_epoch, lr 1.0."""
    s, dl, _, valid_x = loaders(path, "train_epoch", device)
    with torch.device(device):
        weights, bias = drivers.init_params((28 * 28, 1)), drivers.init_params(1)

    def model(xb):
        return drivers.linear1(xb, weights, bias)

    return epochs_of(lambda: module.train_epoch(model, dl, s.lr, (weights, bias), drivers.mnist_loss),
                     model, valid_x, s.epochs, progress)


@probe(streams=True)
def with_optimizer(module, path, device="cpu", progress=_quiet):
    """Section "Creating an Optimizer": nn.Linear(784, 1) trained with the step's BasicOptim."""
    s, dl, _, valid_x = loaders(path, "basic_optim", device)
    model = nn.Linear(28 * 28, 1).to(device)
    opt = module.BasicOptim(model.parameters(), s.lr)
    return epochs_of(lambda: drivers.fit(model, dl, 1, drivers.mnist_loss, opt), model, valid_x, s.epochs, progress)


@probe(streams=True)
def training_loop(module, path, device="cpu", progress=_quiet):
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


@probe(streams=True)
def two_layer_net(module, path, device="cpu", progress=_quiet):
    """Section "Adding a Nonlinearity": the step's nn.Sequential, 40 epochs at lr 0.1."""
    s, dl, _, valid_x = loaders(path, "simple_net", device)
    with torch.device(device):
        model = module.simple_net_module()
    model.to(device)
    opt = drivers.SGD(model.parameters(), s.lr)
    return epochs_of(lambda: drivers.fit(model, dl, 1, drivers.mnist_loss, opt), model, valid_x, s.epochs, progress)


def prediction_recorder(progress, total: int, to_digits):
    """A fastai callback that keeps the validation predictions of every epoch (fastai computes
    them anyway) and reports them to the progress bar."""
    from fastai.callback.core import Callback

    class Record(Callback):
        order = 90

        def __init__(self):
            self.epochs, self.batch, self.final = [], [], None

        def before_validate(self):
            self.batch = []

        def after_batch(self):
            if not self.training:
                self.batch.append(self.pred.detach().cpu())

        def after_epoch(self):
            raw = torch.cat(self.batch) if self.batch else torch.empty(0)
            digits = to_digits(raw) if self.batch else torch.empty(0, dtype=torch.long)
            self.epochs.append(digits)
            self.final = raw.float()
            progress(self.epoch + 1, total, digits)

    return Record()


def fit_fastai(learn, fit, record):
    import fastai.callback.progress  # noqa: F401  (adds Learner.no_bar)

    with learn.no_bar(), learn.no_logging():
        learn.add_cb(record)
        fit()
    return {"epochs": record.epochs, "final": record.final}


@probe(streams=True)
def fastai_learner(module, path, device="cpu", progress=_quiet):
    """Section "Creating an Optimizer": the step's Learner on nn.Linear, fit(10, lr=1.0)."""
    from fastai.data.core import DataLoaders

    s, dl, valid_dl, _ = loaders(path, "learner", device, fastai=True)
    dls = DataLoaders(dl, valid_dl, device=torch.device(device))
    model = nn.Linear(28 * 28, 1).to(device)
    learn = module.make_learner(dls, model, drivers.mnist_loss, drivers.batch_accuracy)
    record = prediction_recorder(progress, s.epochs, binary_digits)
    return fit_fastai(learn, lambda: learn.fit(s.epochs, lr=s.lr), record)


def resnet_dls(path, device="cpu", seed=0):
    from fastai.vision.data import ImageDataLoaders

    s = settings("resnet18")
    return ImageDataLoaders.from_folder(
        Path(path), bs=s.bs, val_bs=data_sources.VALID_BS, num_workers=0, seed=seed, device=torch.device(device)
    )


@probe(streams=True)
def resnet(module, path, device="cpu", seed=0, progress=_quiet):
    """Section "Going Deeper": the step's ResNet-18 learner from random weights, fit_one_cycle."""
    from fastai.torch_core import set_seed

    from grader.engine.views import canonical_valid_files

    set_seed(seed, reproducible=True)
    s = settings("resnet18")
    dls = resnet_dls(path, device, seed)
    learn = module.make_resnet_learner(dls)
    drivers.fused_adam(learn)
    vocab = [int(v) for v in dls.vocab]
    canonical = {str(f): i for i, f in enumerate(canonical_valid_files(Path(path), ("3", "7")))}
    order = torch.tensor([canonical[str(f)] for f in dls.valid.items])

    def to_digits(preds):
        digits = torch.tensor(vocab)[preds.argmax(dim=1)]
        out = torch.empty_like(digits)
        out[order] = digits  # back into canonical order
        return out

    record = prediction_recorder(progress, s.epochs, to_digits)
    run = fit_fastai(learn, lambda: learn.fit_one_cycle(s.epochs, s.lr), record)
    if run["final"] is not None and len(run["final"]) == len(order):
        final = torch.empty_like(run["final"])
        final[order] = run["final"]  # the logits too, in canonical order
        run["final"] = final
    return run
