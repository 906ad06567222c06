# Your exercise for step 'pixel_similarity'. Replace each `raise NotImplementedError(...)` with
# your code; keep the names and signatures. Stuck? `fastgroup hint pixel_similarity`.
"""Step 1 - pixel similarity, the baseline (chapter section "First Try: Pixel Similarity").

Before any learning, classify a digit by asking which "ideal" digit it looks more like:
the mean of every training 3, or the mean of every training 7.
"""

import torch  # noqa: F401  (used in the docstring example)


def mnist_distance(a, b):
    """Mean absolute pixel difference (L1 distance) between images `a` and `b`.

    Average over the last two axes only, so that a whole stack of images of shape
    (N, 28, 28) against one ideal image (28, 28) gives N distances (broadcasting).

    >>> mnist_distance(torch.zeros(28, 28), torch.ones(28, 28))
    tensor(1.)
    """
    raise NotImplementedError("pixel_similarity: write mnist_distance (fastgroup hint pixel_similarity helps)")


def is_3(x, mean3, mean7):
    """True where an image is closer to the ideal 3 than to the ideal 7.

    `x` is one image (28, 28) or a stack (N, 28, 28); returns a bool tensor of shape () or (N,).
    """
    raise NotImplementedError("pixel_similarity: write is_3 (fastgroup hint pixel_similarity helps)")

