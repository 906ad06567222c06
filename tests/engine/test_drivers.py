"""The kit's fused Adam trains as fastai's Adam does, step for step, and replaces no other optimizer."""

from functools import partial

import pytest
import torch
from torch import nn

from grader.engine import data as data_sources
from grader.engine import drivers

pytest.importorskip("fastai")
import fastai.callback.progress  # noqa: E402, F401  (adds Learner.no_bar)
import fastai.callback.schedule  # noqa: E402, F401  (adds Learner.fit_one_cycle)
from fastai.callback.training import ShortEpochCallback  # noqa: E402
from fastai.data.core import DataLoaders  # noqa: E402
from fastai.learner import Learner  # noqa: E402
from fastai.optimizer import SGD, Adam, RAdam  # noqa: E402
from fastai.torch_core import set_seed  # noqa: E402


def digits_learner(**kwargs) -> Learner:
    """A small net with a norm layer and biases on 800 real training digits, seeded."""
    set_seed(0, reproducible=True)
    dl, valid_dl = data_sources.make_loaders(data_sources.resolve("embedded"), bs=64, fastai=True)
    model = nn.Sequential(nn.Linear(28 * 28, 30), nn.ReLU(), nn.BatchNorm1d(30), nn.Linear(30, 1))
    return Learner(DataLoaders(dl, valid_dl), model, loss_func=drivers.mnist_loss, **kwargs)


def trained(learn: Learner) -> list[torch.Tensor]:
    with learn.no_bar(), learn.no_logging():  # one-cycle schedules lr and Adam's first moment;
        # four batches an epoch: over a whole epoch float rounding alone grows to 1e-2
        learn.fit_one_cycle(2, 0.01, cbs=ShortEpochCallback(pct=0.3))
    return [p.detach().clone() for p in learn.model.parameters()]


ADAMS = {  # fastai's Adam as a Learner may be given it: each must train as fastai's own does
    "default": {},
    "opt_func=Adam, wd=0.1": {"opt_func": Adam, "wd": 0.1},
    "wd_bn_bias=True": {"wd_bn_bias": True},
    "partial(Adam, eps=1e-7, sqr_mom=0.999)": {"opt_func": partial(Adam, eps=1e-7, sqr_mom=0.999)},
    "L2 regularization": {"opt_func": partial(Adam, decouple_wd=False), "wd": 0.05},
}


@pytest.mark.parametrize("kwargs", ADAMS.values(), ids=ADAMS.keys())
def test_fused_adam_trains_like_fastais_adam(kwargs):
    fastais = trained(digits_learner(**kwargs))
    learn = digits_learner(**kwargs)
    drivers.fused_adam(learn)
    assert learn.opt is not None, "fastai's Adam was not replaced"
    fused = trained(learn)
    start = [p.detach() for p in digits_learner(**kwargs).model.parameters()]
    assert not any(torch.equal(a, b) for a, b in zip(fastais, start)), "a parameter never moved"
    for a, b in zip(fastais, fused):
        torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kwargs", [{"opt_func": SGD}, {"opt_func": partial(SGD, mom=0.9)}, {"opt_func": RAdam},
                                    {"opt_func": partial(Adam, momentum=0.9)}])  # not Adam's: fastai raises
def test_another_optimizer_or_a_setting_adam_does_not_take_is_left_to_fastai(kwargs):
    learn = digits_learner(**kwargs)
    drivers.fused_adam(learn)
    assert learn.opt is None  # fastai creates the learner's own optimizer when it fits


def test_something_that_is_not_a_learner_is_left_alone():
    drivers.fused_adam(object())  # the step's check reports it; this must not raise
