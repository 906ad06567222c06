"""The mistakes learners make in make_dataset(threes, sevens) and linear1(xb, weights, bias)."""

import torch

from grader.engine.checks.mistakes import BOOK, KIT_SUMMARY, NOTES_CH4, NOTES_NORMALISE, NOTES_SCRATCH
from grader.engine.diagnosis import mistake

NO_UNSQUEEZE = ("targets of shape (N,) against predictions of shape (bs, 1) broadcast silently to (bs, bs): "
                "add .unsqueeze(1)")
LABELS_SWAPPED = "labels swapped: a three is 1"
ORDER = "the images are stacked sevens first while the labels put the threes first"
SCALED_TWICE = "the pixels are divided by 255 again: the stacks are already floats in [0, 1]"
TRANSPOSED = "the (N, 784) matrix is wanted, one row per image: .view(-1, 28 * 28)"
FLAT = "everything is flattened into one long vector: keep one row per image, .view(-1, 28 * 28)"
STACKED = "torch.stack makes a new axis (and needs equal counts): torch.cat joins the two stacks"
NO_BIAS = "the bias is left out"
SIGMOID = "the output goes through a sigmoid: linear1 returns logits (mnist_loss applies the sigmoid)"
ELEMENTWISE = "* multiplies element by element: the layer is a matrix product, xb @ weights + bias"
TIMES_BIAS = "the bias multiplies the product: it is added, xb @ weights + bias"
ROWS_SUMMED = ("each row's products are summed into shape (bs,): the layer keeps a column per image, (bs, 1), "
               "xb @ weights + bias")
WEIGHTS_T = "the weights are transposed: (784, 1) weights go on the right of the (bs, 784) batch, xb @ weights"


def labels(threes, sevens):
    return torch.tensor([1.0] * len(threes) + [0.0] * len(sevens)).unsqueeze(1)


def dataset(x_of, y_of):
    return lambda threes, sevens: (x_of(threes, sevens), y_of(threes, sevens))


def right_x(threes, sevens):
    return torch.cat([threes, sevens]).view(-1, 28 * 28)


MISTAKES = [
    mistake(NO_UNSQUEEZE, f"{BOOK}; {KIT_SUMMARY}", make_dataset=dataset(right_x, lambda t, s: labels(t, s).view(-1))),
    mistake(LABELS_SWAPPED, NOTES_CH4, make_dataset=dataset(right_x, lambda t, s: 1 - labels(t, s))),
    mistake(ORDER, NOTES_SCRATCH, make_dataset=dataset(lambda t, s: torch.cat([s, t]).view(-1, 28 * 28), labels)),
    mistake(SCALED_TWICE, NOTES_NORMALISE, make_dataset=dataset(lambda t, s: right_x(t, s) / 255, labels)),
    mistake(TRANSPOSED, BOOK, make_dataset=dataset(lambda t, s: torch.cat([t, s]).view(28 * 28, -1), labels)),
    mistake(FLAT, BOOK, make_dataset=dataset(lambda t, s: torch.cat([t, s]).flatten(), labels)),
    mistake(STACKED, NOTES_SCRATCH, make_dataset=dataset(lambda t, s: torch.stack([t, s]).view(-1, 28 * 28), labels)),
    mistake(NO_BIAS, NOTES_CH4, linear1=lambda xb, w, b: xb @ w),
    mistake(SIGMOID, NOTES_SCRATCH, linear1=lambda xb, w, b: (xb @ w + b).sigmoid()),
    mistake(ELEMENTWISE, BOOK, linear1=lambda xb, w, b: xb * w + b),
    mistake(TIMES_BIAS, KIT_SUMMARY, linear1=lambda xb, w, b: xb @ w * b),
    mistake(ROWS_SUMMED, NOTES_SCRATCH, linear1=lambda xb, w, b: (xb * w.T).sum(dim=1) + b),
    mistake(WEIGHTS_T, BOOK, linear1=lambda xb, w, b: xb @ w.T + b),
]


def batch(seed: int, bs: int):
    gen = torch.Generator().manual_seed(seed + bs)
    return torch.rand(bs, 784, generator=gen), torch.randn(784, 1, generator=gen), torch.randn(1, generator=gen)


def fewer(given):
    """make_dataset on fewer digits than the check gave: 5 threes and 9 sevens."""
    threes, sevens = given
    return threes[:5], sevens[:9]


MORE = {
    "linear1": lambda seed, given: [("linear1", batch(seed, 3)), ("linear1", batch(seed, 20))],
    "make_dataset": lambda seed, given: [("make_dataset", fewer(given))],
}
