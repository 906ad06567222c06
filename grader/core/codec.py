"""Values that cross the sandbox's wall, as JSON: one codec for the engine and the quiz.

The sandboxed side may send anything (learner code shares its process), so decoding trusts
nothing: no pickle, a depth cap, and a byte budget that encoding checks before it builds a
big value (an 800 MB tensor is refused in a microsecond, never base64-encoded first). What
cannot cross (a model, a generator, a class) arrives as an `Opaque` that names its type.

Plain values (None, bools, numbers, strings, lists, tuples, dicts, numpy arrays) are built in;
a caller adds its own kinds (the engine's tensors, grader/engine/wire.py) as `Kind`s. Torch-free.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass

MAX_BYTES = 64 * 1024**2  # of one message
MAX_DEPTH = 20


class CodecError(Exception):
    """The other side sent something that is not a well-formed value."""


class TooLarge(Exception):  # noqa: N818  (a verdict on a value, not a bug)
    """A value would take more than the budget to send; `size` is at least what it would take."""

    def __init__(self, size: int):
        super().__init__(f"{size} bytes")
        self.size = size


class Opaque:
    """Stands for a value that could not cross: only its type's name and a short repr."""

    def __init__(self, type_name: str, text: str = ""):
        self.type_name, self.text = type_name, text

    def __repr__(self) -> str:
        return self.text or f"<{self.type_name}>"


@dataclass(frozen=True)
class Kind:
    """A kind of value a caller adds: `fits(value)`, `encode(value, budget) -> dict` (tagged
    with `tag`; raises TooLarge past the budget) and `decode(dict)`."""

    tag: str
    fits: Callable[[object], bool]
    encode: Callable[[object, "Budget"], dict]
    decode: Callable[[dict], object]


class Budget:
    """Bytes left for one message; `spend` raises TooLarge when they run out."""

    def __init__(self, total: int = MAX_BYTES):
        self.total, self.left = total, total

    def spend(self, size: int) -> None:
        self.left -= size
        if self.left < 0:
            raise TooLarge(self.total - self.left)


def type_name(value) -> str:
    return value.type_name if isinstance(value, Opaque) else type(value).__name__


def short_repr(value) -> str:
    try:
        return repr(value)[:200]
    except Exception:  # noqa: BLE001  (a learner's __repr__ may raise anything)
        return ""


def encode(value, kinds: tuple[Kind, ...] = (), budget: Budget | None = None, depth: int = 0):
    """A JSON-ready form of `value`; raises only TooLarge (what cannot cross becomes opaque)."""
    budget = budget if budget is not None else Budget()
    budget.spend(8)
    if depth > MAX_DEPTH:
        return {"opaque": type(value).__name__, "repr": "nested too deeply"}
    if value is None or type(value) in (bool, int):
        return value
    if type(value) is str:
        budget.spend(len(value))
        return value
    if type(value) is float:
        return value if math.isfinite(value) else {"float": repr(value)}
    if type(value) in (list, tuple):
        items = [encode(v, kinds, budget, depth + 1) for v in value]
        return items if type(value) is list else {"tuple": items}
    if type(value) is dict:
        return {"dict": [[encode(k, kinds, budget, depth + 1), encode(v, kinds, budget, depth + 1)]
                         for k, v in value.items()]}
    for kind in kinds:
        if kind.fits(value):
            return kind.encode(value, budget)
    if type(value).__module__ == "numpy":
        return encode_numpy(value, budget)
    return {"opaque": type(value).__name__, "repr": short_repr(value)}


def encode_numpy(value, budget: Budget):
    if type(value).__name__ == "ndarray" and value.dtype.kind in "biuf":
        budget.spend(value.size * 24)  # the most a number takes as JSON text
        return {"ndarray": value.tolist(), "dtype": str(value.dtype), "shape": list(value.shape)}
    if getattr(value, "shape", None) == () and hasattr(value, "item"):
        return {"npscalar": encode(value.item(), budget=budget), "dtype": str(value.dtype)}
    return {"opaque": type(value).__name__, "repr": short_repr(value)}


def decode(value, kinds: tuple[Kind, ...] = (), depth: int = 0):
    """The value an `encode` stood for; a CodecError for anything malformed."""
    if depth > MAX_DEPTH:
        raise CodecError("value nested too deeply")
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list):
        return [decode(v, kinds, depth + 1) for v in value]
    if not isinstance(value, dict) or len(value) == 0:
        raise CodecError(f"unexpected value {type(value).__name__}")
    for kind in kinds:
        if kind.tag in value:
            return kind.decode(value)
    if isinstance(value.get("tuple"), list):
        return tuple(decode(v, kinds, depth + 1) for v in value["tuple"])
    if isinstance(value.get("dict"), list):
        pairs = value["dict"]
        if not all(isinstance(p, list) and len(p) == 2 for p in pairs):
            raise CodecError("malformed dict")
        try:
            return {decode(k, kinds, depth + 1): decode(v, kinds, depth + 1) for k, v in pairs}
        except TypeError as err:  # an unhashable key
            raise CodecError("malformed dict key") from err
    if value.get("float") in ("nan", "inf", "-inf"):
        return float(value["float"])
    if "ndarray" in value or "npscalar" in value:
        return decode_numpy(value, kinds, depth)
    if "opaque" in value:
        return Opaque(str(value["opaque"])[:100], str(value.get("repr", ""))[:200])
    raise CodecError("unknown value kind")


def decode_numpy(value: dict, kinds, depth: int):
    import numpy

    try:
        dtype = numpy.dtype(str(value.get("dtype")))
        if dtype.kind not in "biuf":
            raise CodecError("unexpected array dtype")
        if "npscalar" in value:
            return numpy.array(decode(value["npscalar"], kinds, depth + 1), dtype=dtype)[()]
        shape = value.get("shape")
        if not isinstance(shape, list) or not all(isinstance(n, int) and n >= 0 for n in shape):
            raise CodecError("malformed array shape")
        return numpy.array(value["ndarray"], dtype=dtype).reshape(shape)
    except (TypeError, ValueError, OverflowError) as err:
        raise CodecError("malformed array") from err
