"""Inside the sandbox: run a learner's code answer and call its functions when asked.

This file runs as its own program (`python -I answer_process.py`) in the kit's sandbox
(grader/core/sandbox.py). It never sees the question's check: it defines the learner's
functions, then answers calls that the quiz (outside, in quiz/snippets.py) makes, one JSON line
at a time, with the return value as plain data. The verdict is computed outside.

Stdlib only (plus the modules a question names, such as numpy).
"""

import contextlib
import json
import math
import os
import sys

try:
    import resource
except ImportError:  # Windows
    resource = None

MAX_ITEMS = 100_000  # a value bigger than this comes back as an opaque stand-in
MAX_DEPTH = 20


def encode(value, depth: int = 0, budget: list | None = None):
    """A value as JSON-safe data, tagged so that types survive (tuple, ndarray, nan...)."""
    budget = budget if budget is not None else [MAX_ITEMS]
    budget[0] -= 1
    if budget[0] < 0 or depth > MAX_DEPTH:
        return {"__opaque__": type(value).__name__, "repr": "(too big to send)"}
    if value is None or type(value) in (bool, int, str):
        return value
    if type(value) is float:
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if type(value) in (list, tuple):
        items = [encode(v, depth + 1, budget) for v in value]
        return items if type(value) is list else {"__tuple__": items}
    if type(value) is dict:
        return {"__dict__": [[encode(k, depth + 1, budget), encode(v, depth + 1, budget)] for k, v in value.items()]}
    module = type(value).__module__
    if module == "numpy" and type(value).__name__ == "ndarray" and value.size <= budget[0]:
        budget[0] -= value.size
        return {"__ndarray__": value.tolist(), "dtype": str(value.dtype), "shape": list(value.shape)}
    if module == "numpy" and hasattr(value, "item") and getattr(value, "shape", None) == ():
        return {"__npscalar__": value.item(), "dtype": str(value.dtype)}
    try:
        text = repr(value)[:200]
    except Exception:  # noqa: BLE001  (a learner's __repr__ may raise)
        text = "(no repr)"
    return {"__opaque__": type(value).__name__, "repr": text}


def decode(data):
    """The inverse of encode for the values the quiz sends in (lists, tuples, numbers, arrays)."""
    if isinstance(data, list):
        return [decode(v) for v in data]
    if not isinstance(data, dict):
        return data
    if "__tuple__" in data:
        return tuple(decode(v) for v in data["__tuple__"])
    if "__float__" in data:
        return float(data["__float__"])
    if "__dict__" in data:
        return {decode(k): decode(v) for k, v in data["__dict__"]}
    if "__ndarray__" in data:
        import numpy

        return numpy.array(data["__ndarray__"], dtype=data["dtype"]).reshape(data["shape"])
    raise ValueError(f"cannot decode {sorted(data)}")


def describe(err: BaseException) -> str:
    text = " ".join(str(err).split())[:300]
    return f"{type(err).__name__}" + (f": {text}" if text else "")


def no_more_files() -> None:
    """From here on nothing can be opened (files, sockets, pipes), and the limit cannot be raised."""
    if resource is not None:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (0, 0))


def main() -> None:
    replies = os.fdopen(int(sys.argv[1]), "w", buffering=1)
    requests = sys.stdin
    write, exit_now = replies.write, os._exit

    def reply(message: dict) -> None:
        write(json.dumps(message) + "\n")

    job = json.loads(requests.readline())
    for name in job["imports"]:
        try:
            __import__(name)
        except ImportError:
            reply({"error": f"the quiz needs the {name} package, which is not installed"})
            exit_now(0)
    no_more_files()
    reply({"ready": True})
    answer = {"__name__": "__answer__"}
    try:
        exec(compile(job["snippet"], "<your answer>", "exec"), answer)
    except SystemExit:
        reply({"error": "your code called exit(): define the function, don't stop the program"})
        exit_now(0)
    except BaseException as err:  # noqa: BLE001  (whatever the snippet raises costs only it)
        reply({"error": f"your code raised {describe(err)}"})
        exit_now(0)
    reply({"defined": [k for k, v in answer.items() if callable(v) and not k.startswith("__")]})
    for line in requests:
        call = json.loads(line)
        try:
            value = answer[call["call"]](*decode(call["args"]))
            reply({"value": encode(value)})
        except SystemExit:
            reply({"raised": "SystemExit: your function called exit()"})
        except BaseException as err:  # noqa: BLE001
            reply({"raised": describe(err)})
    exit_now(0)


if __name__ == "__main__":
    main()
