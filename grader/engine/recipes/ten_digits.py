"""The bonus steps' training runs on all ten digits (the embedded `mnist_full`: 400 training
and 100 validation images per digit), fed either the learner's code or the reference's.

Unlike the chapter's recipes (grader/engine/recipes/chapter.py) the training batches are shuffled, with a
generator seeded from the grading seed: the digits are stored class by class, and SGD over
batches of one class at a time would chase the last class it saw. Each recipe returns the
validation accuracy after every epoch and can hand back the trained model (`keep`) so the
check can draw its confusion matrix. Every run takes a few seconds on a CPU.
"""

from pathlib import Path
from types import SimpleNamespace

import torch
from torch import nn
from torch.utils.data import BatchSampler, DataLoader, RandomSampler, SequentialSampler, TensorDataset

from grader.core.steps import training as settings
from grader.engine import data as data_sources
from grader.engine.loading import load_reference
from grader.engine.recipes.chapter import _quiet

VALID_BS = 250
N_HIDDEN = 64


def full_path() -> Path:
    """The 10-class digits' folder: always the embedded set, whatever --data says."""
    return data_sources.resolve("embedded", full=True)


def tensors(split: str, device="cpu"):
    x, y = data_sources.load_full(full_path())[split]
    return x.to(device), y.to(device)


def loaders(seed: int, bs: int, device="cpu"):
    """(train_dl, valid_dl) over the 10-class digits; training batches shuffled from `seed`."""
    gen = torch.Generator().manual_seed(seed)
    train, valid = TensorDataset(*tensors("train", device)), TensorDataset(*tensors("valid", device))
    # Whole batches are indexed at once (batch_size=None): far quicker than item by item.
    by_batch = BatchSampler(RandomSampler(train, generator=gen), bs, drop_last=False)
    in_order = BatchSampler(SequentialSampler(valid), VALID_BS, drop_last=False)
    return DataLoader(train, sampler=by_batch, batch_size=None), DataLoader(valid, sampler=in_order, batch_size=None)


def loss_and_metric():
    """The reference cross-entropy and 10-class accuracy: every bonus run is measured alike."""
    m = load_reference("softmax")
    return m.cross_entropy, m.multiclass_accuracy


def one_epoch_each(fit_one, epochs, progress):
    """Call `fit_one()` (one epoch, returns [accuracy]) `epochs` times; the curve."""
    curve = []
    for epoch in range(epochs):
        accs = fit_one()
        if isinstance(accs, torch.Tensor):
            accs = accs.tolist()
        if not isinstance(accs, list | tuple) or len(accs) != 1:
            raise TypeError(f"training for 1 epoch should return a list of 1 accuracy, got {accs!r:.100}")
        curve.append(float(accs[0]))
        progress(epoch + 1, epochs, curve[-1])
    return curve


def linear10(init_linear10, linear10_fn, fit10, seed=0, device="cpu", progress=_quiet, keep=None):
    """A linear model 784 -> 10 from scratch, trained by a `fit10` loop with plain SGD."""
    s = settings("multiclass_linear")
    dl, valid_dl = loaders(seed, s.bs, device)
    with torch.device(device):
        weights, bias = init_linear10()

    def model(xb):
        return linear10_fn(xb, weights, bias)

    loss, metric = loss_and_metric()
    curve = one_epoch_each(lambda: fit10(model, (weights, bias), dl, valid_dl, s.lr, 1, loss, metric),
                           s.epochs, progress)
    if keep is not None:
        keep["model"] = model
    return curve


def net10(init_net10, net10_fn, fit10, seed=0, device="cpu", progress=_quiet, keep=None):
    """A two-layer net 784 -> 64 -> 10 from scratch, trained by a `fit10` loop."""
    s = settings("multiclass_net")
    dl, valid_dl = loaders(seed, s.bs, device)
    with torch.device(device):
        params = list(init_net10(N_HIDDEN))

    def model(xb):
        return net10_fn(xb, params)

    loss, metric = loss_and_metric()
    curve = one_epoch_each(lambda: fit10(model, params, dl, valid_dl, s.lr, 1, loss, metric),
                           s.epochs, progress)
    if keep is not None:
        keep["model"] = model
    return curve


def dropout_net(n_hidden=N_HIDDEN, p=0.2) -> nn.Module:
    """The kit's own 10-class net for MyLearner: with dropout, so train() and eval() matter."""
    return nn.Sequential(nn.Linear(28 * 28, n_hidden), nn.ReLU(), nn.Dropout(p), nn.Linear(n_hidden, 10))


def my_learner(learner_class, seed=0, device="cpu", progress=_quiet, keep=None):
    """The dropout net trained by a MyLearner with the reference BasicOptim and loss."""
    s = settings("my_learner")
    dl, valid_dl = loaders(seed, s.bs, device)
    model = dropout_net().to(device)
    loss, metric = loss_and_metric()
    learn = learner_class(SimpleNamespace(train=dl, valid=valid_dl), model, loss,
                          load_reference("basic_optim").BasicOptim, metric, s.lr)
    curve = []
    for epoch in range(s.epochs):
        learn.fit(1)
        metrics = list(getattr(learn, "metrics", None) or [])
        if len(metrics) != epoch + 1:
            raise TypeError(f"after {epoch + 1} epochs learn.metrics holds {len(metrics)} values, expected {epoch + 1}")
        curve.append(round(float(metrics[-1]), 4))
        progress(epoch + 1, s.epochs, curve[-1])
    if keep is not None:
        keep["model"] = model
    return curve


def confusion(model, device="cpu") -> list[list[int]]:
    """Counts on the validation digits: row = the true digit, column = the predicted one."""
    x, y = tensors("valid", device)
    if isinstance(model, nn.Module):
        model.eval()
    with torch.no_grad():
        preds = torch.cat([model(xb).argmax(dim=1) for xb in x.split(VALID_BS)])
    counts = torch.zeros(10, 10, dtype=torch.long)
    counts.index_put_((y.cpu(), preds.cpu()), torch.ones(len(y), dtype=torch.long), accumulate=True)
    return counts.tolist()


def most_confused(counts: list[list[int]]) -> tuple[int, int, int]:
    """The pair of digits mixed up most often, either way round: (a, b, how many times)."""
    pairs = [(counts[a][b] + counts[b][a], a, b) for a in range(10) for b in range(a + 1, 10)]
    n, a, b = max(pairs)
    return a, b, n
