"""The chapter's training runs, written once and fed either the learner's functions or the
reference's: the checks train the learner's code, calibration trains the reference.

Each recipe returns the validation accuracy after every epoch (the last one is the result).
Settings (grader/core/steps.toml) follow the book except where the 800 training digits of the embedded
set need otherwise; those differences are listed in README and bench/RESULTS.md.
"""

from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from grader.core.steps import training as settings
from grader.engine import data as data_sources
from grader.engine.loading import load_reference

Progress = Callable[[int, int, float | None], None]


def _quiet(done, total, acc):
    pass


def pixel_similarity(is_3, path: Path, device="cpu") -> float:
    """Accuracy of the mean-image baseline: mean of the accuracy on 3s and on 7s."""
    stacks = {k: v.to(device) for k, v in data_sources.load_stacks(path).items()}
    mean3, mean7 = stacks["train3"].mean(0), stacks["train7"].mean(0)
    acc3 = one_answer_per_image(is_3, stacks["valid3"], mean3, mean7).float().mean()
    acc7 = (1 - one_answer_per_image(is_3, stacks["valid7"], mean3, mean7).float()).mean()
    return round(((acc3 + acc7) / 2).item(), 4)


def one_answer_per_image(is_3, stack, mean3, mean7) -> torch.Tensor:
    """is_3 on a stack: one answer per image, or a TypeError (a single answer must not score)."""
    answers = is_3(stack, mean3, mean7)
    if not isinstance(answers, torch.Tensor) or tuple(answers.shape) != (len(stack),):
        shape = tuple(answers.shape) if isinstance(answers, torch.Tensor) else type(answers).__name__
        raise TypeError(
            f"is_3 on a stack of {len(stack)} images returned {shape}, not one answer per image "
            f"({len(stack)},): does mnist_distance average over the last two axes only?"
        )
    return answers


def validate(model, valid_dl) -> float:
    """The reference validate_epoch with the reference metric: how every recipe measures."""
    with torch.no_grad():
        metric = load_reference("batch_accuracy").batch_accuracy
        return load_reference("validate_epoch").validate_epoch(model, valid_dl, metric)


def linear_from_scratch(train_epoch, init_params, path, device="cpu", progress=_quiet):
    """Section "Putting It All Together": hand-made weights, train_epoch with params, lr 1.0."""
    s = settings("train_epoch")
    dl, valid_dl = data_sources.make_loaders(path, s.bs, device)
    with torch.device(device):
        weights, bias = init_params((28 * 28, 1)), init_params(1)
    linear1 = load_reference("linear1").linear1

    def model(xb):
        return linear1(xb, weights, bias)

    loss = load_reference("mnist_loss").mnist_loss
    curve = []
    for epoch in range(s.epochs):
        train_epoch(model, dl, s.lr, (weights, bias), loss)
        curve.append(validate(model, valid_dl))
        progress(epoch + 1, s.epochs, curve[-1])
    return curve


def reference_loop(model, opt, path, step, device="cpu", progress=_quiet):
    """The reference train_model loop around a given model and optimizer."""
    s = settings(step)
    dl, valid_dl = data_sources.make_loaders(path, s.bs, device)
    loss, metric = load_reference("mnist_loss").mnist_loss, load_reference("batch_accuracy").batch_accuracy
    curve = []
    for epoch in range(s.epochs):
        curve += load_reference("train_model").train_model(model, dl, valid_dl, opt, 1, loss, metric)
        progress(epoch + 1, s.epochs, curve[-1])
    return curve


def with_optimizer(opt_class, path, device="cpu", progress=_quiet):
    """Section "Creating an Optimizer": nn.Linear(784, 1) trained with an optimizer class."""
    s = settings("basic_optim")
    model = nn.Linear(28 * 28, 1).to(device)
    return reference_loop(model, opt_class(model.parameters(), s.lr), path, "basic_optim", device, progress)


def training_loop(new_model_and_opt, train_model, path, device="cpu", progress=_quiet):
    """The learner's own setup and loop, fed the reference optimizer, loss and metric."""
    s = settings("train_model")
    dl, valid_dl = data_sources.make_loaders(path, s.bs, device)
    with torch.device(device):
        model, opt = new_model_and_opt(s.lr, load_reference("basic_optim").BasicOptim)
    model.to(device)
    loss, metric = load_reference("mnist_loss").mnist_loss, load_reference("batch_accuracy").batch_accuracy
    curve = []
    for epoch in range(s.epochs):
        accs = train_model(model, dl, valid_dl, opt, 1, loss, metric)
        if not isinstance(accs, list | tuple) or len(accs) != 1:
            raise TypeError(f"train_model(..., epochs=1) should return a list of 1 accuracy, got {accs!r}")
        curve.append(float(accs[0]))
        progress(epoch + 1, s.epochs, curve[-1])
    return curve


def two_layer_net(simple_net_module, path, device="cpu", progress=_quiet):
    """Section "Adding a Nonlinearity": the learner's nn.Sequential, 40 epochs at lr 0.1."""
    s = settings("simple_net")
    with torch.device(device):
        model = simple_net_module()
    model.to(device)
    opt = load_reference("basic_optim").BasicOptim(model.parameters(), s.lr)
    return reference_loop(model, opt, path, "simple_net", device, progress)


def fastai_progress(progress: Progress, total: int):
    """A fastai callback that reports each epoch's metric to our progress bar."""
    from fastai.callback.core import Callback

    class Report(Callback):
        order = 90

        def after_epoch(self):
            values = self.recorder.values[-1] if self.recorder.values else []
            progress(self.epoch + 1, total, float(values[-1]) if values else None)

    return Report()


def fastai_learner(make_learner, path, device="cpu", progress=_quiet):
    """Section "Creating an Optimizer": a Learner on nn.Linear, fit(10, lr=1.0)."""
    from fastai.data.core import DataLoaders

    s = settings("learner")
    dl, valid_dl = data_sources.make_loaders(path, s.bs, device, fastai=True)
    dls = DataLoaders(dl, valid_dl, device=torch.device(device))
    model = nn.Linear(28 * 28, 1).to(device)
    loss, metric = load_reference("mnist_loss").mnist_loss, load_reference("batch_accuracy").batch_accuracy
    learn = make_learner(dls, model, loss, metric)
    return fit_fastai(learn, progress, lambda: learn.fit(s.epochs, lr=s.lr), s.epochs)


def fit_fastai(learn, progress, fit, epochs):
    import fastai.callback.progress  # noqa: F401  (adds Learner.no_bar)

    with learn.no_bar(), learn.no_logging():
        learn.add_cb(fastai_progress(progress, epochs))
        fit()
    return [round(float(v[-1]), 4) for v in learn.recorder.values]


def resnet_dls(path, device="cpu", seed=0):
    from fastai.vision.data import ImageDataLoaders

    s = settings("resnet18")
    return ImageDataLoaders.from_folder(
        path, bs=s.bs, num_workers=0, seed=seed, device=torch.device(device)
    )


def resnet(make_resnet_learner, path, device="cpu", seed=0, progress=_quiet):
    """Section "Going Deeper": ResNet-18 from random weights, fit_one_cycle."""
    s = settings("resnet18")
    learn = make_resnet_learner(resnet_dls(path, device, seed))
    return fit_fastai(learn, progress, lambda: learn.fit_one_cycle(s.epochs, s.lr), s.epochs)
