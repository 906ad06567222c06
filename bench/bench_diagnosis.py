"""What a diagnosis costs: each step graded with one catalogued mistake planted, with the diagnosis
on and off (FASTGROUP_DIAGNOSIS=off), and the reference's step the same way (a passing step: the
diagnosis never runs, so the two should match).

    python bench/bench_diagnosis.py                 # every step with a catalogue, 3 rounds
    python bench/bench_diagnosis.py --rounds 5 --steps mnist_loss train_model

Two grading services stay warm side by side (one started with the diagnosis off); each step's
quick grade (its unit checks) is timed on both, alternated, `--rounds` times, and the medians
printed with their difference: the diagnosis's cost on a failing step (the judge replays the
catalogue on the check's inputs and sends one or two more inputs to the sandbox). Also printed:
the largest time one failing check's diagnosis took inside the judge (its replays), measured in
this process on the same code (judge_in_kernel). For bench/RESULTS.md.
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from grader.core.home import KIT_ROOT  # noqa: E402

PLANTED = {  # one catalogued mistake per step, as a learner writes it
    "pixel_similarity": ("return (a - b).abs().mean((-1, -2))", "return ((a - b) ** 2).mean((-1, -2))"),
    "init_params": ("return (torch.randn(size) * std).requires_grad_()", "return torch.randn(size) * std"),
    "linear1": ("return xb @ weights + bias", "return xb @ weights.T + bias"),
    "mnist_loss": ("return torch.where(targets == 1, 1 - p, p).mean()",
                   "return torch.nn.functional.binary_cross_entropy(p, targets)"),
    "calc_grad": ("loss = loss_func(preds, yb)", "loss = loss_func(yb, preds)"),
    "train_epoch": ("p.grad.zero_()", "pass"),
    "batch_accuracy": ("correct = (preds > 0.5) == yb", "correct = (preds < 0.5) == yb"),
    "validate_epoch": ("return round(torch.stack(accs).mean().item(), 4)",
                       "return round(torch.stack(accs).sum().item(), 4)"),
    "basic_optim": ("p.data -= p.grad.data * self.lr", "p.data -= p.grad.data / self.lr"),
    "train_model": ("loss = loss_func(model(xb), yb)", "loss = loss_func(yb, model(xb))"),
    "simple_net": ("res = res.max(res.new_zeros(()))", "res = res.max(0)"),
    "softmax": ("return (logits.argmax(dim=1) == targets).float().mean()",
                "return (logits.argmax(dim=0) == targets).float().mean()"),
}


def planted(root: Path, steps) -> Path:
    folder = root / "src"
    shutil.copytree(KIT_ROOT / "solutions", folder, ignore=shutil.ignore_patterns("__pycache__"))
    for step in steps:
        file = folder / f"{step}.py"
        old, new = PLANTED[step]
        text = file.read_text()
        line = next(li for li in text.splitlines() if old.splitlines()[0].strip() in li)
        indent = line[: len(line) - len(line.lstrip())]
        assert textwrap.indent(old, indent) in text, (step, old)
        file.write_text(text.replace(textwrap.indent(old, indent), textwrap.indent(new, indent)))
    return folder


def service(diagnosed: bool):
    """A warm grading service whose judges (spawned processes, started here) have the diagnosis on or off."""
    from grader.engine.diagnosis import SWITCH
    from grader.engine.service import Service
    from grader.engine.settings import settings

    os.environ.pop(SWITCH, None) if diagnosed else os.environ.__setitem__(SWITCH, "off")
    return Service(settings(), fastai=False).__enter__()


def timed(folder: Path, step: str, svc, diagnosed: bool) -> tuple[float, str | None]:
    """One quick grade of `step`; a judge that starts for it inherits the switch (judges are spawned)."""
    from grader.engine.diagnosis import SWITCH
    from grader.learner.grade import grade

    os.environ.pop(SWITCH, None) if diagnosed else os.environ.__setitem__(SWITCH, "off")
    start = time.perf_counter()
    results = grade(steps=[step], source=folder, quick=True, seed=0, show=False, service=svc, fresh=True)
    os.environ.pop(SWITCH, None)
    named = next((m for n, m in results.extra_data.mistakes.items() if n.startswith(f"{step}.")), None)
    return time.perf_counter() - start, named


def judge_side(step: str, folder: Path) -> float:
    """The longest diagnosis of one failing check of `step`, inside a judge (here, in this process)."""
    import importlib.util

    from grader.engine import diagnosis
    from grader.engine.judges.judge import judge_in_kernel

    spec = importlib.util.spec_from_file_location(f"bench_{step}", folder / f"{step}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    took, amend = [], diagnosis.amend

    def measured(*args, **kwargs):
        start = time.perf_counter()
        amend(*args, **kwargs)
        took.append(time.perf_counter() - start)

    diagnosis.amend = measured
    try:
        list(judge_in_kernel(step, module, folder / f"{step}.py", "embedded", "cpu", 0, True))
    finally:
        diagnosis.amend = amend
    return max(took, default=0.0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", nargs="*", default=list(PLANTED))
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-diagnosis-"))
    wrong, right = planted(root / "wrong", args.steps), planted(root / "right", [])
    on, off = service(True), service(False)
    try:
        for svc, diagnosed in ((on, True), (off, False)):  # the judges start (and import) before any timing
            timed(wrong, args.steps[0], svc, diagnosed)
        print(f"{'step':18} {'failing: on':>12} {'off':>7} {'cost':>7} {'in judge':>9} {'passing: on':>12} "
              f"{'off':>7}  named (on; off names: the check's own)")
        for step in args.steps:
            times = {("wrong", True): [], ("wrong", False): [], ("right", True): [], ("right", False): []}
            named = unnamed = None
            for _ in range(args.rounds):
                for kind, folder in (("wrong", wrong), ("right", right)):
                    for diagnosed, svc in ((True, on), (False, off)):
                        seconds, said = timed(folder, step, svc, diagnosed)
                        times[(kind, diagnosed)].append(seconds)
                        if kind == "wrong":
                            named, unnamed = (said, unnamed) if diagnosed else (named, said)
            med = {k: statistics.median(v) for k, v in times.items()}
            inside = judge_side(step, wrong)
            print(f"{step:18} {med[('wrong', True)]:12.3f} {med[('wrong', False)]:7.3f} "
                  f"{med[('wrong', True)] - med[('wrong', False)]:+7.3f} {inside:9.3f} "
                  f"{med[('right', True)]:12.3f} {med[('right', False)]:7.3f}  {(named or '-')[:40]}; "
                  f"{(unnamed or '-')[:25]}")
    finally:
        on.__exit__(None, None, None)
        off.__exit__(None, None, None)
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
