"""The sandboxed side of grading: runs the learner's code on the judge's inputs, returns data.

Started by grader/engine/judges/remote.py inside grader/core/sandbox.py as `python -m
grader.engine.judges.observer`. It reads one request per line on stdin and answers on the file
descriptor named in FASTGROUP_CHANNEL_FD (grader/core/channel.py, values as in
grader/engine/wire.py). It never decides a point: it has no reference solutions, no labels of
the validation digits and no access to the kit home; everything it says is checked by the
judge, which treats it as learner-controlled data: the learner's code shares this process and
may have replaced anything in it. The probes are looked up in a copy of the table taken before
any learner code ran, which is hygiene, not the guarantee: a probe the learner's code replaced
can make its check fail, never pass (docs/architecture.md). A request either calls one of the
learner's functions or runs a probe (kit code that drives the learner's code, written beside
its check in grader/engine/checks/) on the learner's module.
"""

import contextlib
import hashlib
import importlib
import os
import sys
import traceback
import warnings
from pathlib import Path

from grader.core import priority
from grader.engine.judges import stuck


def load_learner(step: str, code: str, workdir: Path, cache: dict):
    """The learner's module from the code the judge sent: written into the private folder."""
    from grader.engine.loading import ModuleLoadError, load_file

    key = (step, hashlib.sha256(code.encode()).hexdigest())
    if key not in cache:
        path = workdir / f"{step}.py"
        path.write_text(code)
        try:
            cache[key] = load_file(path, f"fastgroup_learner_{step}")
        except ModuleLoadError as err:
            cache[key] = err
    return cache[key]


def answer(request: dict, channel, workdir: Path, cache: dict, probes: dict, dump=None) -> dict:
    """Run one request; the reply (never raises for what the learner's code does)."""
    from grader.engine.checks.base import seed_everything
    from grader.engine.loading import ModuleLoadError, captured_output, describe_exception, raised_by_a_stub
    from grader.engine.wire import TooLarge, decode, encode

    rid = request.get("id")
    step = str(request.get("step"))
    module = load_learner(step, str(request.get("code", "")), workdir, cache)
    if isinstance(module, ModuleLoadError):
        return {"id": rid, "load_error": str(module)}
    args = decode(request.get("args", []))
    kwargs = decode(request.get("kwargs", {"dict": []}))
    seed_everything(int(request.get("seed", 0)))

    def progress(done, total, value=None):
        with contextlib.suppress(TooLarge):
            channel.send({"id": rid, "progress": encode([done, total, value])})

    stop_at = request.get("stop_at")
    if dump is not None and isinstance(stop_at, int | float):
        stuck.arm(dump, float(stop_at))  # where the code was, should the runner stop it
    with captured_output() as out:
        try:
            if request.get("op") == "probe":
                probe = probes[str(request.get("name"))]
                value = probe(module, *args, progress=progress, **kwargs) if probe.streams else probe(
                    module, *args, **kwargs
                )
            else:
                value = getattr(module, str(request.get("name")))(*args, **kwargs)
            reply = {"id": rid, "ok": encode(value)}
        except TooLarge as err:
            reply = {"id": rid, "too_large": err.size}
        except BaseException as err:  # noqa: BLE001  (learner code may raise anything, SystemExit too)
            reply = {
                "id": rid,
                "raised": {
                    "type": type(err).__name__,
                    "message": str(err)[:2000],
                    "text": describe_exception(err, workdir / f"{step}.py"),
                    "not_started": raised_by_a_stub(err),
                },
            }
        finally:
            if dump is not None:
                stuck.disarm(dump)
    reply["output"] = out.text()
    return reply


def close_inherited(keep: set[int]) -> None:
    """Close every descriptor this process was started with but `keep` (and stdin, stdout,
    stderr): the sandbox's launcher may pass its own (the user namespace's, as root), and none of
    the kit's belongs in the learner's process."""
    with contextlib.suppress(OSError):
        for name in os.listdir("/proc/self/fd"):
            fd = int(name)
            if fd > 2 and fd not in keep:
                with contextlib.suppress(OSError):
                    os.close(fd)


def main() -> None:
    close_inherited({int(os.environ[name]) for name in ("FASTGROUP_CHANNEL_FD", stuck.FD_ENV)
                     if os.environ.get(name, "").isdigit()})
    from grader.core.channel import Outbox, loads
    from grader.engine.loading import ignore_library_warnings

    ignore_library_warnings()

    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    priority.lower_session(int(os.environ.get(priority.ENV) or 0))  # before any learner code runs
    channel = Outbox(int(os.environ["FASTGROUP_CHANNEL_FD"]))
    workdir = Path.cwd()
    import torch  # noqa: F401  (before the ready message: its import is not the learner's time)

    from grader.engine.checks import PROBES

    probes = dict(PROBES)  # before any learner code runs

    for name in sys.argv[1:]:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=FutureWarning)
            importlib.import_module(name)
    channel.send({"ready": True})
    cache: dict = {}
    dump = stuck.opened_dump()
    stuck.listen(dump)  # the runner's signal as the code uses up its CPU seconds
    for line in sys.stdin.buffer:
        request = loads(line)
        if request is None:
            continue
        try:
            reply = answer(request, channel, workdir, cache, probes, dump)
        except BaseException:  # noqa: BLE001  (a bug of ours: say so rather than hang)
            reply = {"id": request.get("id"), "internal": traceback.format_exc()[-1500:]}
        try:
            channel.send(reply)
        except ValueError:
            channel.send({"id": request.get("id"), "internal": "the reply could not be encoded"})


if __name__ == "__main__":
    main()
