"""Run a learner's code answer and its check in a separate, limited Python process.

Why a child process: an endless loop, `sys.exit`, `os._exit`, a crash or a flood of output in
a learner's snippet must cost that one question, never the quiz. The child (this same file run
as a script with `python -I`) gets a scrubbed environment (no tokens), an empty temporary
working directory, and, where the platform has `resource`, limits on CPU time, memory, output
size and open files. The open-file limit drops to zero once the allowed modules are imported,
so the snippet can neither read files such as /etc/passwd nor open sockets.

Why a nonce: the check runs in the same child, after the snippet, and reports its verdict as a
line starting with a random nonce that only the harness knows (sent on stdin, which is then
closed). A snippet that prints "passed" cannot forge that line. This stops accidents and
casual cheating; it is not a security boundary against a determined attacker running Python
in the same process (the quiz is a study aid, not an exam proctor).

Stdlib only: the child imports nothing from the kit.
"""

import ast
import builtins
import contextlib
import errno
import json
import math
import os
import secrets
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

try:
    import resource
except ImportError:  # Windows: no limits beyond the time limit
    resource = None

TIME_LIMIT_S = 5.0
OUTPUT_LIMIT_BYTES = 64_000
MEMORY_LIMIT_BYTES = 512 * 1024 * 1024  # on top of what the interpreter and imports use
MESSAGE_LIMIT = 300


@dataclass(frozen=True)
class CodeVerdict:
    """What the check said about a snippet, in one line the learner can act on."""

    passed: bool
    message: str


def run_code(
    snippet: str,
    test: str,
    imports: tuple[str, ...] = (),
    time_limit: float = TIME_LIMIT_S,
    output_limit: int = OUTPUT_LIMIT_BYTES,
) -> CodeVerdict:
    """Run `snippet`, then `test` against it, in a limited child process; never raises."""
    nonce = secrets.token_hex(16)
    payload = {
        "nonce": nonce,
        "snippet": snippet,
        "test": test,
        "imports": list(imports),
        "cpu_s": math.ceil(time_limit) + 1,
        "memory": MEMORY_LIMIT_BYTES,
        "output": output_limit,
    }
    env = {
        "PATH": os.defpath,
        "LC_ALL": "C.UTF-8",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    with tempfile.TemporaryDirectory(prefix="fastgroup-quiz-") as tmp:
        workdir = Path(tmp) / "work"
        workdir.mkdir()
        out_path = Path(tmp) / "output.txt"
        with open(out_path, "wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-I", str(Path(__file__).resolve())],
                stdin=subprocess.PIPE,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=workdir,
                env=env,
                start_new_session=True,  # so a timeout kills the snippet's children too
            )
            try:
                proc.communicate(json.dumps(payload).encode(), timeout=time_limit)
            except subprocess.TimeoutExpired:
                _kill_group(proc)
                return CodeVerdict(False, f"stopped after {time_limit:g} s: an endless loop?")
            finally:
                _kill_group(proc)
        output = out_path.read_bytes()
    return _verdict_from(output, nonce, proc.returncode, output_limit)


def _kill_group(proc: subprocess.Popen) -> None:
    """Kill the child and anything it started; ignore what has already gone."""
    with contextlib.suppress(ProcessLookupError, PermissionError, AttributeError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _verdict_from(output: bytes, nonce: str, returncode: int, output_limit: int) -> CodeVerdict:
    """Read the harness's verdict line; anything else in the output is the snippet's and ignored."""
    marker = nonce.encode() + b" "
    for line in reversed(output.splitlines()):
        if line.startswith(marker):
            try:
                verdict = json.loads(line[len(marker) :])
                return CodeVerdict(bool(verdict["passed"]), str(verdict["message"]))
            except (ValueError, KeyError, TypeError):
                break
    if len(output) >= output_limit:
        return CodeVerdict(False, f"printed more than {output_limit // 1000} KB of output")
    if returncode < 0:
        name = signal.Signals(-returncode).name if -returncode in signal.valid_signals() else ""
        return CodeVerdict(False, f"the process was killed ({name or returncode}): too much CPU or memory?")
    return CodeVerdict(False, f"ended before the check could run (exit code {returncode}): did it call os._exit?")


# ---------------------------------------------------------------------------------------------
# The child side: everything below runs in the limited process.


class CheckFailed(Exception):
    """Raised by a question's test through `check()`: the message goes to the learner."""


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


def _explain(err: BaseException, who: str) -> str:
    """'your code raised ValueError: ...', with a plain word for the sandbox's no-files rule."""
    if isinstance(err, OSError) and err.errno == errno.EMFILE:
        what = "/".join(str(err.filename or "a file").split(os.sep)[-2:])  # e.g. numpy/__init__.py
        return f"{who} tried to open {what}: answers run without file access (import only what the question names)"
    text = str(err)
    return f"{who} raised {type(err).__name__}" + (f": {text}" if text else "")


def _limit(name: str, value: int) -> None:
    """Lower one resource limit, quietly skipping what this platform doesn't support."""
    which = getattr(resource, name, None)
    if resource is None or which is None:
        return
    try:
        _, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, hard))
    except (ValueError, OSError):
        pass


def _current_memory() -> int:
    """Virtual memory in use now (Linux), so the memory limit leaves room for the imports."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


def _child() -> None:
    """Read the job, drop privileges we can drop, run snippet then test, write the verdict."""
    job = json.loads(sys.stdin.buffer.read())
    nonce = job["nonce"]
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)  # the snippet cannot read the job (and its nonce) again
    os.close(devnull)
    verdict_fd = os.dup(1)  # survives the snippet closing or replacing sys.stdout
    write, exit_now = os.write, os._exit

    def finish(passed: bool, message: str) -> None:
        # a leading newline, in case the snippet left a line unfinished
        line = f"\n{nonce} {json.dumps({'passed': passed, 'message': _short(message)})}\n"
        try:
            write(verdict_fd, line.encode())
        finally:
            exit_now(0)

    modules = {}
    for name in job["imports"]:
        try:
            modules[name] = __import__(name)
        except ImportError:
            finish(False, f"the quiz needs the {name} package, which is not installed")
    try:
        tree = ast.parse(job["snippet"], filename="<your answer>")
    except SyntaxError as err:
        finish(False, f"syntax error on line {err.lineno}: {err.msg}")
    if not job["snippet"].strip():
        finish(False, "no code given")
    saved_builtins = dict(builtins.__dict__)

    _limit("RLIMIT_CPU", job["cpu_s"])
    _limit("RLIMIT_AS", _current_memory() + job["memory"])
    _limit("RLIMIT_FSIZE", job["output"])
    _limit("RLIMIT_CORE", 0)
    _limit("RLIMIT_NPROC", 0)
    _limit("RLIMIT_NOFILE", 0)  # no new files, sockets or pipes from here on; open ones still work

    answer = {"__name__": "__answer__"}
    try:
        exec(compile(tree, "<your answer>", "exec"), answer)
    except SystemExit:
        finish(False, "your code called exit(): define the function, don't stop the program")
    except BaseException as err:  # noqa: BLE001 - whatever the snippet raises costs only it
        finish(False, _explain(err, "your code"))

    builtins.__dict__.clear()
    builtins.__dict__.update(saved_builtins)  # undo any monkeypatching of builtins
    names = {"check": check, "same": same, "ns": answer, "tree": tree, "ast": ast}
    names.update(isclose=math.isclose, **modules)
    try:
        exec(compile(job["test"], "<quiz check>", "exec"), names)
    except CheckFailed as err:
        finish(False, str(err))
    except SystemExit:
        finish(False, "your function called exit()")
    except BaseException as err:  # noqa: BLE001
        finish(False, _explain(err, "calling your code"))
    finish(True, "all checks passed")


if __name__ == "__main__":
    _child()
