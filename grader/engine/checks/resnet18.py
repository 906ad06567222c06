"""Checks for step resnet18."""

from pathlib import Path

import torch

from grader.core.steps import training as settings
from grader.engine import drivers
from grader.engine.checks.base import Context, Fail, check, probe, trained, training_check
from grader.engine.recipes.center_tap import center_taps
from grader.engine.recipes.chapter import fit_fastai, prediction_recorder, quiet, resnet_dls

STEP = "resnet18"


@probe
def built(module, path, seed: int):
    """make_resnet_learner's Learner: its type, the body's parameter count, its output for 2 images."""
    from fastai.learner import Learner

    dls = resnet_dls(path, "cpu", seed)
    learn = module.make_resnet_learner(dls)
    if not isinstance(learn, Learner):
        return {"type": type(learn).__name__}
    xb, _ = dls.one_batch()
    learn.model.eval()
    with torch.no_grad():
        out = learn.model(xb[:2].cpu())
    return {"type": "Learner", "body": sum(p.numel() for p in learn.model[0].parameters()), "out": out}


@check(STEP, "make_resnet_learner builds a ResNet-18 with 2 outputs from random weights", 2)
def builds(ctx: Context):
    got = ctx.learner.observe(built, str(ctx.data_path), ctx.seed)
    if got.get("type") != "Learner":
        raise Fail(f"make_resnet_learner returned a {got.get('type')}, expected a fastai Learner")
    n = got.get("body")
    if not isinstance(n, int) or not 11_000_000 < n < 11_300_000:
        raise Fail(f"the body has {n if not isinstance(n, int) else format(n, ',')} parameters; "
                   "resnet18's has about 11.2 million")
    out = got.get("out")
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != (2, 2):
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise Fail(f"the model gives shape {shape} for 2 images, expected (2, 2): one per class")


@training_check(STEP, "fit_one_cycle({epochs}, {lr}) reaches the accuracy threshold", 6,
                run=lambda ctx, recipe: trained(ctx, recipe, ctx.device.type, ctx.seed))
def recipe(module, path, device="cpu", seed=0, progress=quiet):
    """Section "Going Deeper": the step's ResNet-18 learner from random weights, fit_one_cycle."""
    from fastai.torch_core import set_seed

    from grader.engine.views import canonical_valid_files

    set_seed(seed, reproducible=True)
    s = settings("resnet18")
    dls = resnet_dls(path, device, seed)
    learn = module.make_resnet_learner(dls)
    drivers.fused_adam(learn)
    center_taps(getattr(learn, "model", None))
    vocab = [int(v) for v in dls.vocab]
    canonical = {str(f): i for i, f in enumerate(canonical_valid_files(Path(path), ("3", "7")))}
    order = torch.tensor([canonical[str(f)] for f in dls.valid.items])

    def to_digits(preds):
        digits = torch.tensor(vocab)[preds.argmax(dim=1)]
        out = torch.empty_like(digits)
        out[order] = digits  # back into canonical order
        return out

    record = prediction_recorder(progress, s.epochs, to_digits)
    run = fit_fastai(learn, lambda: learn.fit_one_cycle(s.epochs, s.lr), record)
    if run["final"] is not None and len(run["final"]) == len(order):
        final = torch.empty_like(run["final"])
        final[order] = run["final"]  # the logits too, in canonical order
        run["final"] = final
    return run
