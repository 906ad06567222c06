"""Values that cross the sandbox's wall, as JSON: tensors, numbers, strings, lists, dicts.

The sandbox may send anything (learner code shares its process), so decoding trusts nothing:
no pickle, a size cap, a depth cap, tensors rebuilt only from a known dtype whose byte count
matches its shape. What cannot cross (a model, a generator, a class) arrives as an `Opaque`
that names its type, so the judge can say "expected a tensor, got Sequential".
"""

import base64
import json
import math

import torch

MAX_MESSAGE = 64 * 1024**2  # bytes of one JSON line
MAX_DEPTH = 20
DTYPES = {
    str(t): t
    for t in (torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int64, torch.int32,
              torch.int16, torch.int8, torch.uint8, torch.bool)
}


class WireError(Exception):
    """The other side sent something that is not a well-formed value."""


class Opaque:
    """Stands for a value that could not cross: only its type's name and a short repr."""

    def __init__(self, type_name: str, text: str = ""):
        self.type_name, self.text = type_name, text

    def __repr__(self) -> str:
        return self.text or f"<{self.type_name}>"


def type_name(value) -> str:
    return value.type_name if isinstance(value, Opaque) else type(value).__name__


def encode(value, depth: int = 0):
    """A JSON-ready form of `value`; never raises (what cannot cross becomes an Opaque)."""
    if depth > MAX_DEPTH:
        return {"opaque": type(value).__name__, "repr": "nested too deeply"}
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"float": repr(value)}
    if isinstance(value, torch.Tensor):
        return encode_tensor(value)
    if isinstance(value, list | tuple):
        items = [encode(v, depth + 1) for v in value]
        return items if isinstance(value, list) else {"tuple": items}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"dict": {k: encode(v, depth + 1) for k, v in value.items()}}
    if hasattr(value, "item") and hasattr(value, "dtype"):  # numpy scalars
        try:
            return encode(value.item(), depth + 1)
        except Exception:  # noqa: BLE001  (learner objects may raise anything)
            pass
    try:
        text = repr(value)[:200]
    except Exception:  # noqa: BLE001
        text = ""
    return {"opaque": type(value).__name__, "repr": text}


def encode_tensor(t: torch.Tensor) -> dict:
    flags = {"requires_grad": bool(t.requires_grad), "is_leaf": bool(t.is_leaf)}
    data = t.detach().to("cpu").contiguous()
    if str(data.dtype) not in DTYPES:
        return {"opaque": "Tensor", "repr": f"tensor of dtype {data.dtype}"}
    raw = data.reshape(-1).view(torch.uint8).numpy().tobytes()
    return {"tensor": str(data.dtype), "shape": list(data.shape), "data": base64.b64encode(raw).decode(), **flags}


def decode(value, depth: int = 0):
    """The value an `encode` stood for; a WireError for anything malformed."""
    if depth > MAX_DEPTH:
        raise WireError("value nested too deeply")
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list):
        return [decode(v, depth + 1) for v in value]
    if not isinstance(value, dict) or len(value) == 0:
        raise WireError(f"unexpected value {type(value).__name__}")
    if "tensor" in value:
        return decode_tensor(value)
    if "tuple" in value and isinstance(value["tuple"], list):
        return tuple(decode(v, depth + 1) for v in value["tuple"])
    if "dict" in value and isinstance(value["dict"], dict):
        return {str(k): decode(v, depth + 1) for k, v in value["dict"].items()}
    if "float" in value and value["float"] in ("nan", "inf", "-inf"):
        return float(value["float"])
    if "opaque" in value:
        return Opaque(str(value["opaque"])[:100], str(value.get("repr", ""))[:200])
    raise WireError("unknown value kind")


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


def dumps(message: dict) -> bytes:
    return json.dumps(message, allow_nan=False).encode() + b"\n"


def loads(line: bytes) -> dict:
    """One message; a WireError when it is too big, not JSON, too deep or not an object."""
    if len(line) > MAX_MESSAGE:
        raise WireError("message too large")
    try:
        message = json.loads(line)
    except (ValueError, RecursionError) as err:
        raise WireError("not a JSON message") from err
    if not isinstance(message, dict):
        raise WireError("not a JSON object")
    return message
