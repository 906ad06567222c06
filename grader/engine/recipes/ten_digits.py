"""The bonus steps' training runs on all ten digits (the embedded `mnist_full`: 400 training
and 100 validation images per digit), fed either the learner's module (in the sandbox) or
the reference's (in the judge).

Unlike the chapter's recipes (grader/engine/recipes/chapter.py) the training batches are shuffled, with a
generator seeded from the grading seed: the digits are stored class by class, and SGD over
batches of one class at a time would chase the last class it saw. Each recipe is a streaming
probe, like the chapter's: it returns the digit predicted for every validation image of the
view after every epoch, and the judge scores them (and draws the confusion matrix from the
last epoch's). Every run takes a few seconds on a CPU.
"""

from pathlib import Path
from types import SimpleNamespace

import torch
from torch import nn
from torch.utils.data import BatchSampler, DataLoader, RandomSampler, SequentialSampler, TensorDataset

from grader.core.steps import training as settings
from grader.engine import data as data_sources
from grader.engine import drivers
from grader.engine.probes import probe
from grader.engine.recipes.chapter import _quiet

VALID_BS = 250
N_HIDDEN = 64


def full_path() -> Path:
    """The 10-class digits' folder: always the embedded set, whatever --data says."""
    return data_sources.resolve("embedded", full=True)


def tensors(path, split: str, device="cpu"):
    x, y = data_sources.load_full(Path(path))[split]
    return x.to(device), y.to(device)


def loaders(path, seed: int, bs: int, device="cpu"):
    """(train_dl, valid_dl) over the 10-class digits; training batches shuffled from `seed`."""
    gen = torch.Generator().manual_seed(seed)
    train, valid = TensorDataset(*tensors(path, "train", device)), TensorDataset(*tensors(path, "valid", device))
    # Whole batches are indexed at once (batch_size=None): far quicker than item by item.
    by_batch = BatchSampler(RandomSampler(train, generator=gen), bs, drop_last=False)
    in_order = BatchSampler(SequentialSampler(valid), VALID_BS, drop_last=False)
    return DataLoader(train, sampler=by_batch, batch_size=None), DataLoader(valid, sampler=in_order, batch_size=None)


def outputs(model, path, device="cpu") -> torch.Tensor:
    """A 10-class model's logits for every validation image (canonical order), checked for shape."""
    x, _ = tensors(path, "valid", device)
    if isinstance(model, nn.Module):
        model.eval()
    with torch.no_grad():
        out = torch.cat([model(xb) for xb in x.split(VALID_BS)])
    if isinstance(model, nn.Module):
        model.train()
    if out.dim() != 2 or out.shape != (len(x), 10):
        raise TypeError(f"the model turned {len(x)} images into {tuple(out.shape)}; expected ({len(x)}, 10)")
    return out.detach().cpu().float()


def epochs_of(run_epoch, model, path, device, epochs, progress) -> dict:
    """The predicted digits after every epoch and the final logits (see chapter.epochs_of)."""
    digits = []
    for epoch in range(epochs):
        run_epoch()
        logits = outputs(model, path, device)
        digits.append(logits.argmax(dim=1))
        progress(epoch + 1, epochs, digits[-1])
    return {"epochs": digits, "final": logits}


@probe(streams=True)
def linear10(module, path, seed=0, device="cpu", progress=_quiet):
    """A linear model 784 -> 10 from the step's init_linear10 and linear10, trained by its fit10."""
    s = settings("multiclass_linear")
    dl, valid_dl = loaders(path, seed, s.bs, device)
    with torch.device(device):
        weights, bias = module.init_linear10()

    def model(xb):
        return module.linear10(xb, weights, bias)

    fit_one = lambda: module.fit10(  # noqa: E731
        model, (weights, bias), dl, valid_dl, s.lr, 1, drivers.cross_entropy, drivers.multiclass_accuracy)
    return epochs_of(fit_one, model, path, device, s.epochs, progress)


@probe(streams=True)
def net10(module, path, seed=0, device="cpu", progress=_quiet):
    """A two-layer net 784 -> 64 -> 10 from the step's init_net10 and net10, plain SGD."""
    s = settings("multiclass_net")
    dl, valid_dl = loaders(path, seed, s.bs, device)
    with torch.device(device):
        params = list(module.init_net10(N_HIDDEN))

    def model(xb):
        return module.net10(xb, params)

    fit_one = lambda: drivers.fit10(  # noqa: E731
        model, params, dl, valid_dl, s.lr, 1, drivers.cross_entropy, drivers.multiclass_accuracy)
    return epochs_of(fit_one, model, path, device, s.epochs, progress)


def dropout_net(n_hidden=N_HIDDEN, p=0.2) -> nn.Module:
    """The kit's own 10-class net for MyLearner: with dropout, so train() and eval() matter."""
    return nn.Sequential(nn.Linear(28 * 28, n_hidden), nn.ReLU(), nn.Dropout(p), nn.Linear(n_hidden, 10))


@probe(streams=True)
def my_learner(module, path, seed=0, device="cpu", progress=_quiet):
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


def confusion(predicted: torch.Tensor, truth: torch.Tensor) -> list[list[int]]:
    """Counts on the validation digits: row = the true digit, column = the predicted one."""
    counts = torch.zeros(10, 10, dtype=torch.long)
    counts.index_put_((truth.cpu(), predicted.cpu().long()), torch.ones(len(truth), dtype=torch.long), accumulate=True)
    return counts.tolist()


def most_confused(counts: list[list[int]]) -> tuple[int, int, int]:
    """The pair of digits mixed up most often, either way round: (a, b, how many times)."""
    pairs = [(counts[a][b] + counts[b][a], a, b) for a in range(10) for b in range(a + 1, 10)]
    n, a, b = max(pairs)
    return a, b, n
