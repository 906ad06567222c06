"""What the chapter's training runs share. Each training step's run is its `recipe`, beside its
checks (grader/engine/checks/<id>.py), written once and fed either the learner's module (in the
sandbox) or the reference's (in the judge): `recipe(module, view_path, device, ...)`.

Each recipe is a streaming probe (grader/engine/probes.py): it returns the digit it predicts for
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

Progress = Callable[..., None]


def quiet(*message):
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


def resnet_dls(path, device="cpu", seed=0):
    from fastai.vision.data import ImageDataLoaders

    from grader.engine.recipes.decoded_once import decoded_once_dl

    s = settings("resnet18")
    return ImageDataLoaders.from_folder(
        Path(path), bs=s.bs, val_bs=data_sources.VALID_BS, num_workers=0, seed=seed, device=torch.device(device),
        dl_type=decoded_once_dl(),
    )
