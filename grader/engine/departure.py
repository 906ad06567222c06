"""Where a learner's SGD run first leaves the reference's: batch by batch, in the order the chapter
computes them (predictions, loss, the update the gradient asks for, the parameters after the step,
the gradients left for the next batch).

Both runs start from the same weights on the same batches. The learner's side is a trace taken in
the sandbox by kit code wrapped around their loop (a loss function that records what it is given
and the state of the parameters at each call); the reference's side is computed here, in the
judge, from the learner's own parameters before each batch. The first quantity that differs is
given with both values, and its relation where exactly one fits; a cause is named only where
exactly one known mistake gives that observation.
"""

from typing import NamedTuple

import torch

from grader.engine.difference import number, relation

ZEROED_PARAMS = "the parameters were zeroed, not their gradients"
NO_GRADIENT = "the update does not use the gradient"
SIGN_ONLY = "the update uses only the sign of the gradient"
NOT_ZEROED = "the gradients are never zeroed, so each batch adds to the last ones"


def span(t: torch.Tensor) -> str:
    return f"from {number(t.min().item())} to {number(t.max().item())}"


def close(a, b, atol=1e-5) -> bool:
    return isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and a.shape == b.shape and bool(
        torch.allclose(a.double(), b.double(), atol=atol, rtol=1e-4))


def recorder(loss, parameters, batches: int):
    """Probe side: a loss function that records, at each of its first `batches` + 1 calls, what it
    is given, the loss, and the parameters with the gradients they hold then; and `trace()`, the
    record with the state at the end (what first_departure reads)."""
    parameters = list(parameters)

    def state() -> dict:
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in parameters]
        return {"params": torch.cat([p.detach().reshape(-1) for p in parameters]),
                "grads": torch.cat([g.detach().reshape(-1) for g in grads])}

    calls = []

    def loss_func(preds, targets):
        value = loss(preds, targets)
        if len(calls) <= batches:
            calls.append({"preds": preds.detach().clone(), "loss": value.detach().clone(), **state()})
        return value

    return loss_func, lambda: {"calls": calls, "end": state()}


def linear_forward(x, params):
    """nn.Linear(784, 1) (or linear1's weights and bias) from its flattened parameters."""
    return x @ params[:784].view(784, 1) + params[784:]


class Departure(NamedTuple):
    line: str
    cause: str | None  # named only where exactly one known mistake gives what was seen
    before_update: bool  # the run left the reference's before its update (predictions or loss)


def first_departure(trace: dict, batches: list, lr: float, forward, loss_func) -> Departure | None:
    """Where the learner's trace first leaves the reference's, or None when it retraces it.
    `trace`: {"calls": [{"preds", "loss", "params", "grads"} at each call of the loss],
    "end": {"params", "grads"}}; `forward(x, params)` and `loss_func` are the kit's own."""
    calls = trace.get("calls") if isinstance(trace, dict) else None
    if not isinstance(calls, list) or not calls:
        return Departure("the loss function was never called: no batch was trained on", None, True)
    states = [*calls[1:], trace.get("end")]
    for k, (x, y) in enumerate(batches):
        at = f"batch {k + 1}"
        if k >= len(calls):
            return Departure(f"{at}: the loss function was not called again after batch {k}: the loop stopped early",
                             None, True)
        call, after = calls[k], states[k]
        if not all(isinstance(call.get(n), torch.Tensor) for n in ("preds", "loss", "params", "grads")) or \
                not isinstance(after, dict) or not isinstance(after.get("params"), torch.Tensor):
            return Departure(f"{at}: the recorded values are not tensors", None, True)
        before = call["params"].double().detach().requires_grad_()
        preds = forward(x.double(), before)
        if not close(call["preds"].double(), preds.detach()):
            return Departure(f"{at}: the predictions differ from the model's output on this batch"
                             f"{said(call['preds'], preds.detach())}", None, True)
        loss = loss_func(preds, y.double())
        if not close(call["loss"].double(), loss.detach()):
            return Departure(f"{at}: the predictions match; the loss differs (yours {number(call['loss'].item())}, "
                             f"expected {number(loss.item())}): the targets given to the loss are not the batch's",
                             None, True)
        (gradient,) = torch.autograd.grad(loss, before)
        moved, wanted = after["params"].double() - call["params"].double(), -lr * gradient
        if not close(moved, wanted, atol=1e-6):
            line, cause = how_the_update_differs(call["params"].double(), after["params"].double(), lr, gradient)
            return Departure(f"{at}: the loss matches; {line}", cause, False)
        left = after.get("grads")
        if isinstance(left, torch.Tensor) and left.abs().max().item() > 1e-12:
            return Departure(f"{at}: the update matches; the gradients left for the next batch are not zero "
                             f"({span(left)}; the reference's: 0)", NOT_ZEROED, False)
    return None


def how_the_update_differs(before, after, lr: float, gradient) -> tuple[str, str | None]:
    """An SGD update from `before` to `after` that is not -lr x `gradient`: what it was instead,
    and the cause where exactly one known mistake fits (where two fit, what was seen, no cause)."""
    moved, wanted = after - before, -lr * gradient
    reference = f"(the reference: -lr x gradient, {span(wanted)})"
    if moved.abs().max().item() == 0.0:  # no step at all, a step before backward(), an lr of 0...: none named
        return f"the parameters did not move {reference}", None
    fits = []
    if after.abs().max().item() == 0.0 and before.abs().max().item() > 0:
        fits.append((f"after the step every parameter is exactly 0 (the reference's: {span(before + wanted)})",
                     ZEROED_PARAMS))
    first = moved.flatten()[0].item()
    if (moved - first).abs().max().item() < 1e-6 and wanted.abs().max().item() > 0:
        fits.append((f"every parameter moved by exactly {number(first)} {reference}", NO_GRADIENT))
    if close(moved, -lr * gradient.sign(), atol=1e-6):
        fits.append((f"the update is lr x sign(gradient) {reference}", SIGN_ONLY))
    if len(fits) == 1:
        seen, cause = fits[0]
        return f"{seen}: {cause}", cause
    if fits:  # e.g. gradients all of one sign: a constant step and a step by the sign look alike
        return f"{fits[0][0]}; it fits {len(fits)} mistakes, so none is named", None
    how = relation(moved, wanted, 1e-6)
    return f"the update differs {reference}" + (f": {how}" if how else f"; yours {span(moved)}"), None


def said(got: torch.Tensor, want: torch.Tensor) -> str:
    how = relation(got.double(), want.double())
    return f": {how}" if how else ""
