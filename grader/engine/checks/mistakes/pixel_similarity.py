"""The mistakes learners make in mnist_distance(a, b) and is_3(x, mean3, mean7)."""

import torch

from grader.engine.checks.mistakes import BOOK, KIT_SUMMARY, NOTES_CH4, NOTES_NORMALISE, NOTES_SCRATCH
from grader.engine.checks.pixel_similarity import ALL_AXES, NO_ABS, RMSE, SUMMED
from grader.engine.diagnosis import mistake

RMSE_ALL = ("that is the RMSE of the whole stack at once (one number): this step takes the mean absolute "
            "difference of each image, .abs().mean((-1, -2))")
MSE = "that is the mean squared difference: this step uses the mean absolute difference (L1 norm)"
LAST_AXIS = "the mean runs over the last axis only: .mean((-1, -2)) gives one distance per image"
FIRST_AXES = "the mean runs over the first two axes: a stack's distances need the last two, .mean((-1, -2))"
SCALED = "the pixels are divided by 255 again inside mnist_distance: the images are already floats in [0, 1]"
BRIGHTNESS = ("the images' average brightness is compared, not their pixels: take the difference pixel by pixel, "
              "then its absolute value, then the mean")
REVERSED = "the comparison is reversed: a 3 is closer to mean3"
MEANS_SWAPPED = "mean3 and mean7 are swapped in is_3: a digit is a 3 when it is closer to mean3"
ONE_ANSWER = ("is_3 gives one answer for the whole stack: its distance averages every axis; use .mean((-1, -2)) "
              "so each image gets its own")


def with_distance(distance):
    """mnist_distance written this way, and the chapter's is_3 on top of it."""
    return {"mnist_distance": distance, "is_3": lambda x, m3, m7: distance(x, m3) < distance(x, m7)}


MISTAKES = [
    mistake(RMSE, BOOK, **with_distance(lambda a, b: ((a - b) ** 2).mean((-1, -2)).sqrt())),
    mistake(RMSE_ALL, BOOK + " (F.mse_loss(...).sqrt())", **with_distance(lambda a, b: ((a - b) ** 2).mean().sqrt())),
    mistake(MSE, NOTES_SCRATCH, **with_distance(lambda a, b: ((a - b) ** 2).mean((-1, -2)))),
    mistake(NO_ABS, NOTES_CH4, **with_distance(lambda a, b: (a - b).mean((-1, -2)))),
    mistake(ALL_AXES, BOOK + " (F.l1_loss averages everything too)", mnist_distance=lambda a, b: (a - b).abs().mean()),
    mistake(ONE_ANSWER, KIT_SUMMARY, is_3=lambda x, m3, m7: (x - m3).abs().mean() < (x - m7).abs().mean()),
    mistake(SUMMED, NOTES_SCRATCH, **with_distance(lambda a, b: (a - b).abs().sum((-1, -2)))),
    mistake(LAST_AXIS, KIT_SUMMARY, **with_distance(lambda a, b: (a - b).abs().mean(-1))),
    mistake(FIRST_AXES, BOOK, **with_distance(lambda a, b: (a - b).abs().mean((0, 1)))),
    mistake(SCALED, NOTES_NORMALISE, **with_distance(lambda a, b: (a / 255 - b / 255).abs().mean((-1, -2)))),
    mistake(BRIGHTNESS, NOTES_CH4, **with_distance(lambda a, b: (a.mean((-1, -2)) - b.mean((-1, -2))).abs())),
    mistake(REVERSED, NOTES_CH4, is_3=lambda x, m3, m7: (x - m3).abs().mean((-1, -2)) > (x - m7).abs().mean((-1, -2))),
    mistake(MEANS_SWAPPED, KIT_SUMMARY,
            is_3=lambda x, m3, m7: (x - m7).abs().mean((-1, -2)) < (x - m3).abs().mean((-1, -2))),
]


def images(seed: int, n: int):
    gen = torch.Generator().manual_seed(seed + n)
    return torch.rand(n, 28, 28, generator=gen), torch.rand(28, 28, generator=gen)


MORE = {"mnist_distance": lambda seed, given: [("mnist_distance", images(seed, 3))]}
