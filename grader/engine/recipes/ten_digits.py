"""What the bonus steps' training runs share: all ten digits (the embedded `mnist_full`: 400
training and 100 validation images per digit). Each step's run is its `recipe`, beside its
checks (grader/engine/checks/<id>.py), fed either the learner's module (in the sandbox) or the
reference's (in the judge).

Unlike the chapter's recipes the training batches are shuffled, with a
generator seeded from the grading seed: the digits are stored class by class, and SGD over
batches of one class at a time would chase the last class it saw. Each recipe is a streaming
probe, like the chapter's: it returns the digit predicted for every validation image of the
view after every epoch, and the judge scores them (and draws the confusion matrix from the
last epoch's). Every run takes a few seconds on a CPU.
"""

from pathlib import Path

import torch
from torch import nn
from torch.utils.data import BatchSampler, DataLoader, RandomSampler, SequentialSampler, TensorDataset

from grader.core.steps import training as settings
from grader.engine import data as data_sources

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


def run(step: str, path, seed: int, device: str, progress, setup) -> dict:
    """A step's run on the 10-class digits with its training settings: `setup(dl, valid_dl, lr)`
    builds the model with `device` as the default (the learner's init code makes tensors) and
    returns (model, one_epoch)."""
    s = settings(step)
    dl, valid_dl = loaders(path, seed, s.bs, device)
    with torch.device(device):
        model, one_epoch = setup(dl, valid_dl, s.lr)
    return epochs_of(one_epoch, model, path, device, s.epochs, progress)


def dropout_net(n_hidden=N_HIDDEN, p=0.2) -> nn.Module:
    """The kit's own 10-class net for MyLearner: with dropout, so train() and eval() matter."""
    return nn.Sequential(nn.Linear(28 * 28, n_hidden), nn.ReLU(), nn.Dropout(p), nn.Linear(n_hidden, 10))


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
