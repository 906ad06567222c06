"""Grade a learner's code answer: their code runs in the kit's sandbox, the check runs here.

Observe inside, judge outside. The answer runs in its own sandboxed process
(quiz/answer_process.py under grader/core/sandbox.py: no files, no network, no secrets, hard
limits, every process it starts dies with it), on the kit's one channel (grader/core/channel.py).
The question's check runs in this process and calls the learner's functions through `Remote`
stand-ins: each call goes to the sandbox as data
and the return value comes back as data (lists, numbers, arrays; anything else as an opaque
stand-in that only knows its type name). Nothing the answer does can reach the check, its
helpers or this process: a patched `check`, an inspected frame or a forged "passed" line have
nothing to act on.

Why a process at all: an endless loop, `sys.exit`, `os._exit`, a crash or a flood of output
must cost that one question, never the quiz.
"""

import ast
import contextlib
import math
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from grader.core import codec, sandbox
from grader.core.channel import ChannelClosed, ChannelFlooded, ChannelTimeout, Inbox, dumps
from grader.core.home import KIT_ROOT

TIME_LIMIT_S = 5.0
START_LIMIT_S = 60.0  # starting Python and the imports: not the learner's time
OUTPUT_LIMIT_BYTES = 64_000
MEMORY_LIMIT_BYTES = 1024**3
MESSAGE_LIMIT = 300
VALUE_LIMIT = 10_000_000  # bytes of one reply


@dataclass(frozen=True)
class CodeVerdict:
    """What the check said about a snippet, in one line the learner can act on."""

    passed: bool
    message: str


class CheckFailed(Exception):
    """Raised by a question's test through `check()`: the message goes to the learner."""


class AnswerStopped(Exception):  # noqa: N818  (a verdict, not an error)
    """The answer's process stopped, raised, or ran out of time: the message says which."""


def check(condition, message: str) -> None:
    """The one assertion helper a question's test uses (asserts vanish under -O; this doesn't)."""
    if not condition:
        raise CheckFailed(message)


def same(got, want) -> bool:
    """Strict equality of plain values: exact types, so an object whose __eq__ lies can't pass."""
    if type(got) is not type(want):
        return False
    if type(want) in (list, tuple):
        return len(got) == len(want) and all(same(g, w) for g, w in zip(got, want))
    if type(want) is float:
        return math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12)
    if type(want) in (int, str, bool, type(None)):
        return got == want
    return False


def _short(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 3] + "..."


# --- values across the boundary ----------------------------------------------------------------


def decode(data):
    """A value that came back from the sandbox: plain data, never code (grader/core/codec.py)."""
    try:
        value = codec.decode(data)
    except codec.CodecError:
        raise AnswerStopped("the answer sent back something unreadable") from None
    return opaque(value.type_name[:50], value.text) if isinstance(value, codec.Opaque) else value


def opaque(type_name: str, text: str):
    """A stand-in for a value that cannot travel (a zip, a generator...): it knows its type's name."""
    cls = type(type_name if type_name.isidentifier() else "object", (), {"__repr__": lambda self: text})
    return cls()


# --- the answer's process ----------------------------------------------------------------------


class Answer:
    """The learner's code running in the sandbox; call its functions through remote()."""

    def __init__(self, snippet: str, imports: tuple[str, ...], time_limit: float):
        self.time_limit = time_limit
        self.tmp = tempfile.TemporaryDirectory(prefix="fastgroup-quiz-")
        replies, self.write_fd = os.pipe()
        self.inbox = Inbox(replies, VALUE_LIMIT)
        limits = sandbox.Limits(
            memory_bytes=MEMORY_LIMIT_BYTES, cpu_seconds=math.ceil(time_limit) + 2,
            file_bytes=OUTPUT_LIMIT_BYTES, open_files=64, output_bytes=OUTPUT_LIMIT_BYTES,
        )  # fmt: skip
        env = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
               "PYTHONPATH": str(KIT_ROOT)}
        self.proc = sandbox.start(
            [sys.executable, "-P", "-s", "-m", "quiz.answer_process", str(self.write_fd)],
            Path(self.tmp.name),
            limits=limits,
            env=env,
            pass_fds=(self.write_fd,),
            stdin=subprocess.PIPE,
        )
        os.close(self.write_fd)
        self.output = sandbox.CappedReader(self.proc.stdout, OUTPUT_LIMIT_BYTES)
        self.output.start()
        self.send({"imports": list(imports), "snippet": snippet})
        self.receive(START_LIMIT_S)  # ready: imports done, the learner's clock starts now
        self.deadline = time.monotonic() + time_limit
        self.defined = self.receive()["defined"]

    def send(self, message: dict) -> None:
        try:
            self.proc.stdin.write(dumps(message))
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise AnswerStopped(self.why_stopped()) from None

    def receive(self, limit: float | None = None) -> dict:
        """The next reply line, waiting at most `limit` (default: until the learner's deadline)."""
        end = time.monotonic() + limit if limit is not None else self.deadline
        try:
            message = self.inbox.receive(end)
        except ChannelTimeout:
            raise AnswerStopped(f"stopped after {self.time_limit:g} s: an endless loop?") from None
        except ChannelClosed:
            raise AnswerStopped(self.why_stopped()) from None
        except ChannelFlooded:
            raise AnswerStopped("the answer returned a value too big to check") from None
        if "too_large" in message:
            raise AnswerStopped("the answer returned a value too big to check")
        if "error" in message:
            raise AnswerStopped(str(message["error"]))
        return message

    def why_stopped(self) -> str:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(2)
        code = self.proc.returncode
        if self.output.dropped or len(self.output.kept) >= OUTPUT_LIMIT_BYTES:
            return f"printed more than {OUTPUT_LIMIT_BYTES // 1000} KB of output"
        if code is not None and code < 0:
            return f"the process was killed (signal {-code}): too much CPU or memory?"
        return f"ended before the check could finish (exit code {code}): did it call os._exit?"

    def remote(self, name: str):
        """A function the check can call: the call runs in the sandbox, the value comes back as data."""

        def call(*args):
            self.send({"call": name, "args": codec.encode(list(args))})
            message = self.receive()
            if "raised" in message:
                raise AnswerStopped(f"calling your code raised {message['raised']}")
            return decode(message.get("value"))

        call.__name__ = name
        return call

    def close(self) -> None:
        sandbox.stop(self.proc)
        self.output.join(5)
        self.inbox.close()
        self.tmp.cleanup()


def run_code(
    snippet: str,
    test: str,
    imports: tuple[str, ...] = (),
    time_limit: float = TIME_LIMIT_S,
    output_limit: int = OUTPUT_LIMIT_BYTES,
) -> CodeVerdict:
    """Run `snippet` in the sandbox and `test` here against its functions; never raises."""
    if not snippet.strip():
        return CodeVerdict(False, "no code given")
    try:
        tree = ast.parse(snippet, filename="<your answer>")
    except SyntaxError as err:
        return CodeVerdict(False, f"syntax error on line {err.lineno}: {err.msg}")
    modules = {}
    for name in imports:
        try:
            modules[name] = __import__(name)
        except ImportError:
            return CodeVerdict(False, f"the quiz needs the {name} package, which is not installed")
    answer = None
    try:
        answer = Answer(snippet, imports, time_limit)
        ns = {name: answer.remote(name) for name in answer.defined}
        names = {"check": check, "same": same, "ns": ns, "tree": tree, "ast": ast, "isclose": math.isclose}
        exec(compile(test, "<quiz check>", "exec"), {**names, **modules})  # our check, our process
    except CheckFailed as err:
        return CodeVerdict(False, _short(err))
    except AnswerStopped as err:
        return CodeVerdict(False, _short(err))
    finally:
        if answer is not None:
            answer.close()
    return CodeVerdict(True, "all checks passed")
