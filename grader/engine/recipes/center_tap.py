"""A 3x3 convolution over a 1x1-pixel input is a 1x1 convolution with its centre tap.

With zero padding of 1, the eight outer taps of such a convolution only ever meet padding: they
add exact zeros to its output and get exact zeros as gradients. ResNet-18 on 28x28 digits is down
to 1x1 pixel in its last stage, and there oneDNN computes the whole 3x3 weight gradient on a
slow generic path: 43 % of a training step on a CPU (bench/RESULTS.md). `center_taps` lets
those convolutions use the centre tap alone when their input is 1x1, which halves ResNet-18's
step. The arithmetic is the same up to float rounding, and the weights keep their shape, names
and gradients (zeros on the outer taps). The recipe calls it on the learner's model in the
sandbox and on the reference's in the judge, so both runs are fed alike.
"""

import torch.nn.functional as F
from torch import nn


class CenterTapConv2d(nn.Conv2d):
    """nn.Conv2d that skips the outer taps where they can only meet padding."""

    def forward(self, x):
        if x.shape[-2:] == (1, 1):
            return F.conv2d(x, self.weight[:, :, 1:2, 1:2], self.bias, groups=self.groups)
        return super().forward(x)


def fits(module) -> bool:
    """A plain 3x3 convolution padded with one ring of zeros, any stride: on a 1x1 input its
    only output pixel sits on the centre tap."""
    return (type(module) is nn.Conv2d and module.kernel_size == (3, 3) and module.padding == (1, 1)
            and module.dilation == (1, 1) and module.padding_mode == "zeros")


def center_taps(model) -> int:
    """Give every fitting convolution of `model` the centre-tap path; how many got it. Anything
    that is not a torch module (a learner's wrong return, which its check reports) is left alone."""
    if not isinstance(model, nn.Module):
        return 0
    convs = [m for m in model.modules() if fits(m)]
    for conv in convs:
        conv.__class__ = CenterTapConv2d
    return len(convs)
