"""Inside the sandbox: run a learner's code answer and call its functions when asked.

Runs as `python -m quiz.answer_process FD` in the kit's sandbox (grader/core/sandbox.py). It
never sees the question's check: it defines the learner's functions, then answers calls that
the quiz (outside, in quiz/snippets.py) makes, one message at a time on the kit's channel
(grader/core/channel.py, values in grader/core/codec.py). The verdict is computed outside.

Stdlib and the kit's torch-free core only (plus the modules a question names, such as numpy).
"""

import contextlib
import os
import sys

from grader.core import codec
from grader.core.channel import Outbox, loads

try:
    import resource
except ImportError:  # Windows
    resource = None


def describe(err: BaseException) -> str:
    text = " ".join(str(err).split())[:300]
    return f"{type(err).__name__}" + (f": {text}" if text else "")


def no_more_files() -> None:
    """From here on nothing can be opened (files, sockets, pipes), and the limit cannot be raised."""
    if resource is not None:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (0, 0))


def value_reply(value) -> dict:
    try:
        return {"value": codec.encode(value)}
    except codec.TooLarge as err:
        return {"too_large": err.size}


def main() -> None:
    replies = Outbox(int(sys.argv[1]))
    reply, exit_now = replies.send, os._exit
    job = loads(sys.stdin.buffer.readline()) or {}
    for name in job.get("imports", []):
        try:
            __import__(name)
        except ImportError:
            reply({"error": f"the quiz needs the {name} package, which is not installed"})
            exit_now(0)
    no_more_files()
    reply({"ready": True})
    answer = {"__name__": "__answer__"}
    try:
        exec(compile(str(job.get("snippet", "")), "<your answer>", "exec"), answer)
    except SystemExit:
        reply({"error": "your code called exit(): define the function, don't stop the program"})
        exit_now(0)
    except BaseException as err:  # noqa: BLE001  (whatever the snippet raises costs only it)
        reply({"error": f"your code raised {describe(err)}"})
        exit_now(0)
    reply({"defined": [k for k, v in answer.items() if callable(v) and not k.startswith("__")]})
    for line in sys.stdin.buffer:
        call = loads(line)
        if call is None:
            continue
        try:
            value = answer[call["call"]](*codec.decode(call["args"]))
            message = value_reply(value)
        except SystemExit:
            message = {"raised": "SystemExit: your function called exit()"}
        except BaseException as err:  # noqa: BLE001
            message = {"raised": describe(err)}
        reply(message)
    exit_now(0)


if __name__ == "__main__":
    main()
