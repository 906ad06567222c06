"""The cost of finding where a failing training run left the reference's (departure.py).

    python bench/bench_replay.py [--runs 20]

For each training step with a replay (train_epoch, train_model's loop), a planted mistake that
departs at the last traced batch (the dearest case: gradients not zeroed after the last one, a
loop that is right until its last traced batch) and one that departs at batch 1 (the same
mistake at the first batch): the replay as the check runs it after a failure, the learner's side
(the traced run) and the judge's (the reference's batch by batch), in one process on this CPU.
The sandbox adds one request's round trip to it (the trace crosses as data). Goal: at most 1 s a
step.
"""

import argparse
import statistics
import sys
import time
from types import SimpleNamespace

import torch

from grader.engine.checks import train_epoch, train_model
from grader.engine.data import embedded_path


def learner(module):
    return SimpleNamespace(observe=lambda probe, *args: probe(module, *args))


def epoch(late: bool):
    def run(model, dl, lr, params, loss_func):
        for k, (xb, yb) in enumerate(dl):
            loss_func(model(xb), yb).backward()
            for p in params:
                p.data -= p.grad * lr
                if k != (len(dl) - 1 if late else 0):
                    p.grad.zero_()

    return SimpleNamespace(train_epoch=run)


def loop(late: bool):
    last = train_model.TRACED_BATCHES - 1

    def run(model, dl, valid_dl, opt, epochs, loss_func, metric):
        for k, (xb, yb) in enumerate(dl):
            loss_func(model(xb), yb).backward()
            opt.step()
            if k != (last if late else 0):
                opt.zero_grad()
        return [0.5] * epochs

    return SimpleNamespace(train_model=run)


def time_it(replay, runs: int) -> tuple[float, str]:
    seconds, found = [], None
    for _ in range(runs):
        began = time.perf_counter()
        found = replay()
        seconds.append(time.perf_counter() - began)
    return statistics.median(seconds), found.line[:70] if found else "no departure"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(1)  # what a judge's check gets beside the other lane
    view = SimpleNamespace(source=embedded_path())
    print("| step | mistake departs at | median s | what it said |\n|---|---|---|---|")
    for late in (False, True):
        ctx = SimpleNamespace(seed=0, learner=learner(epoch(late)))
        took, line = time_it(lambda ctx=ctx: train_epoch.where_it_left(ctx, 0.3), args.runs)
        print(f"| train_epoch | {'the last batch' if late else 'batch 1'} | {took:.4f} | {line} |")
        ctx = SimpleNamespace(seed=0, view=view, learner=learner(loop(late)))
        data = train_model.loop_data(ctx)
        took, line = time_it(lambda ctx=ctx, data=data: train_model.where_it_left(ctx, data), args.runs)
        print(f"| train_model | {'the last batch' if late else 'batch 1'} | {took:.4f} | {line} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
