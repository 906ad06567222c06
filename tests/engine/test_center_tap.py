"""ResNet-18 with centre-tap convolutions computes what it computed before, on real digits."""

import copy

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models import resnet18

from grader.engine import data as data_sources
from grader.engine.recipes.center_tap import CenterTapConv2d, center_taps


def digits(n: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
    """Real training digits as ResNet's 3-channel 28x28 images, labels 0 (a 3) and 1 (a 7)."""
    x, y = data_sources.load_xy(data_sources.resolve("embedded"), "train")
    picked = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))[:n]
    return x[picked].view(-1, 1, 28, 28).expand(-1, 3, -1, -1).contiguous(), y[picked].view(-1).long()


def outputs_and_grads(model: nn.Module, x, y) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    out = model(x)
    F.cross_entropy(out, y).backward()
    return out.detach(), {name: p.grad for name, p in model.named_parameters()}


def test_every_padded_3x3_convolution_gets_the_centre_tap_and_nothing_else_does():
    model = resnet18(num_classes=2)
    threes = sum(type(m) is nn.Conv2d and m.kernel_size == (3, 3) for m in model.modules())
    assert center_taps(model) == threes == 16
    kinds = {(type(m).__name__, m.kernel_size) for m in model.modules() if isinstance(m, nn.Conv2d)}
    assert kinds == {("CenterTapConv2d", (3, 3)), ("Conv2d", (7, 7)), ("Conv2d", (1, 1))}


def test_resnet18_gives_the_same_outputs_and_gradients_as_before():
    torch.manual_seed(0)
    plain = resnet18(num_classes=2)
    fast = copy.deepcopy(plain)
    center_taps(fast)
    x, y = digits()
    out, grads = outputs_and_grads(plain, x, y)
    fast_out, fast_grads = outputs_and_grads(fast, x, y)
    torch.testing.assert_close(fast_out, out, rtol=1e-4, atol=1e-5)
    assert fast_grads.keys() == grads.keys()  # same parameters, names and shapes: the optimizer sees no change
    for name, grad in grads.items():
        scale = grad.abs().max().clamp_min(1e-12)
        assert (fast_grads[name] - grad).abs().max() / scale < 1e-4, name
    last = fast.layer4[1].conv2
    assert isinstance(last, CenterTapConv2d) and last.weight.grad.shape == (512, 512, 3, 3)
    assert last.weight.grad[:, :, 0].abs().max() == 0  # outer taps: exact zeros, as the full convolution gives


def test_larger_inputs_take_the_full_convolution_bit_for_bit():
    torch.manual_seed(0)
    conv = nn.Conv2d(3, 8, 3, padding=1)
    x = torch.randn(4, 3, 5, 5)
    before = conv(x)
    center_taps(conv)
    assert torch.equal(conv(x), before)


def test_what_is_not_a_model_is_left_alone():
    assert center_taps(None) == 0
    assert center_taps("a learner's wrong return") == 0
