"""Got against expected: what a learner's value and the reference's are, side by side, and how
they relate where exactly one simple relation fits.

Every line is an observation the judge computes from the two values, never a guess at the cause:
a learner who reads "yours is 2x the expected" finds the cause in their own code. The judge calls
it when a value differs (checks/base.py: expect_tensor); the lines go into the check's message
and, as data, into the results JSON (scoring.py: extra_data.differences).
"""

import torch

SHOWN = 3  # positions shown: the ones that differ most


def number(x: float) -> str:
    return f"{x:.4g}"


def summary(t: torch.Tensor) -> dict:
    return {"shape": list(t.shape), "dtype": str(t.dtype).removeprefix("torch.")}


def as_float(t: torch.Tensor) -> torch.Tensor:
    return t.detach().cpu().double()


def relation(got: torch.Tensor, want: torch.Tensor, atol: float = 1e-5) -> str | None:
    """How `got` relates to `want`, when exactly one of the simple relations below fits."""
    if got.shape != want.shape:
        if got.numel() == want.numel() and torch.allclose(as_float(got).flatten(), as_float(want).flatten(), atol=atol):
            return f"yours has the expected values in shape {tuple(got.shape)}, expected {tuple(want.shape)}"
        return None
    g, w = as_float(got), as_float(want)
    if w.numel() == 0 or not (torch.isfinite(g).all() and torch.isfinite(w).all()):
        return None

    def close(a, b) -> bool:
        return bool(torch.allclose(a, b, atol=atol, rtol=1e-4))

    fits = []
    varies = w.numel() > 1 and (w.max() - w.min()).item() > atol
    if varies and (g.max() - g.min()).item() <= atol:
        fits.append(f"yours is the same for every item ({number(g.flatten()[0].item())})")
    if close(g, -w):
        fits.append("yours is the expected with the sign flipped")
    if close(g, 1 - w):
        fits.append("yours equals 1 - expected")
    if close(g, w * w):
        fits.append("yours is the expected value squared")
    if (w >= 0).all() and close(g * g, w):
        fits.append("yours is the square root of the expected")
    scale = (g * w).sum() / (w * w).sum() if (w * w).sum() > 0 else None
    if scale is not None and abs(scale.item() - 1) > 1e-3 and abs(scale.item() + 1) > 1e-3 and close(g, scale * w):
        fits.append(f"yours is {number(scale.item())}x the expected")
    shift = (g - w).mean()
    if abs(shift.item()) > atol and close(g, w + shift):
        fits.append(f"yours is the expected {'plus' if shift > 0 else 'minus'} {number(abs(shift.item()))}")
    return fits[0] if len(fits) == 1 else None


def compared(got: torch.Tensor, want: torch.Tensor, atol: float = 1e-5) -> tuple[list[str], dict]:
    """The lines a learner reads (shapes and dtypes, the values where the two differ most, the
    relation), and the same as data."""
    data = {"got": summary(got), "expected": summary(want), "positions": [], "relation": relation(got, want, atol)}
    lines = []
    if got.shape != want.shape or got.dtype != want.dtype:
        lines.append(f"yours: shape {tuple(got.shape)}, {data['got']['dtype']}; "
                     f"expected: shape {tuple(want.shape)}, {data['expected']['dtype']}")
    if got.shape == want.shape and want.numel():
        g, w = as_float(got), as_float(want)
        gap = (g - w).abs().nan_to_num(nan=float("inf")).flatten()
        for flat in gap.argsort(descending=True)[:SHOWN].tolist():
            if gap[flat] <= atol:
                break
            where = [int(i) for i in torch.unravel_index(torch.tensor(flat), want.shape)] if want.dim() else []
            mine, right = g.flatten()[flat].item(), w.flatten()[flat].item()
            data["positions"].append({"index": where, "got": mine, "expected": right})
            at = f"at {where}: " if where else ""
            lines.append(f"{at}yours {number(mine)}, expected {number(right)}")
    elif want.numel() <= SHOWN and got.numel() <= SHOWN:
        lines.append(f"yours {as_float(got).flatten().tolist()}, expected {as_float(want).flatten().tolist()}")
    if data["relation"]:
        lines.append(data["relation"])
    return lines, data


def shown(t) -> str:
    """An input in a few words: a small tensor's values, a larger one's shape."""
    if not isinstance(t, torch.Tensor):
        return repr(t)[:60]
    if t.numel() <= 6:
        return f"tensor({[round(v, 4) for v in as_float(t).flatten().tolist()]})"
    return f"a {tuple(t.shape)} tensor"
