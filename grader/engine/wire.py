"""The engine's values on the sandbox's wire: grader/core/codec.py, plus torch tensors.

A tensor crosses as its dtype, shape and raw bytes (base64), and is rebuilt only from a known
dtype whose byte count matches its shape; its size is checked against the message's budget
before a byte is copied. Numpy scalars cross as plain numbers.
"""

import base64
import math

import torch

from grader.core import codec
from grader.core.codec import Budget, Opaque, TooLarge, type_name  # noqa: F401  (the engine's names for them)

WireError = codec.CodecError
DTYPES = {
    str(t): t
    for t in (torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int64, torch.int32,
              torch.int16, torch.int8, torch.uint8, torch.bool)
}


def encode_tensor(t: torch.Tensor, budget: Budget) -> dict:
    if str(t.dtype) not in DTYPES:
        return {"opaque": "Tensor", "repr": f"tensor of dtype {t.dtype}"}
    budget.spend(t.numel() * t.element_size())  # before a byte is copied (the channel caps the line itself)
    flags = {"requires_grad": bool(t.requires_grad), "is_leaf": bool(t.is_leaf)}
    data = t.detach().to("cpu").contiguous()
    raw = data.reshape(-1).view(torch.uint8).numpy().tobytes()
    return {"tensor": str(data.dtype), "shape": list(data.shape), "data": base64.b64encode(raw).decode(), **flags}


def decode_tensor(value: dict) -> torch.Tensor:
    dtype = DTYPES.get(value.get("tensor"))
    shape = value.get("shape")
    if dtype is None or not isinstance(shape, list) or not all(isinstance(n, int) and n >= 0 for n in shape):
        raise WireError("malformed tensor")
    try:
        raw = base64.b64decode(value.get("data", ""), validate=True)
    except (ValueError, TypeError) as err:
        raise WireError("malformed tensor data") from err
    count = math.prod(shape)
    itemsize = torch.empty((), dtype=dtype).element_size()
    if len(raw) != count * itemsize:
        raise WireError("tensor data does not match its shape")
    flat = torch.frombuffer(bytearray(raw), dtype=torch.uint8).view(dtype) if raw else torch.empty(0, dtype=dtype)
    t = flat.reshape(shape).clone()
    if value.get("requires_grad") and t.is_floating_point():
        t.requires_grad_()
        if not value.get("is_leaf", True):
            t = t * 1  # an interior node of a graph, as it was on the other side
    return t


def is_numpy_scalar(value) -> bool:
    return type(value).__module__ == "numpy" and getattr(value, "shape", None) == () and hasattr(value, "item")


KINDS = (
    codec.Kind("tensor", lambda v: isinstance(v, torch.Tensor), encode_tensor, decode_tensor),
    codec.Kind("item", is_numpy_scalar, lambda v, budget: {"item": codec.encode(v.item(), budget=budget)},
               lambda v: codec.decode(v["item"])),
)


def encode(value, budget: Budget | None = None):
    """A JSON-ready form of `value`; raises only TooLarge (what cannot cross becomes an Opaque)."""
    return codec.encode(value, KINDS, budget)


def decode(value):
    """The value an `encode` stood for; a WireError for anything malformed."""
    return codec.decode(value, KINDS)
