"""Probes: kit code that drives the learner's code and returns what it saw, as plain data.

A probe is written once and run twice: inside the sandbox on the learner's module
(grader/engine/judges/observer.py, through `ctx.learner.observe`) and in the judge on the reference
module. The observer finds probes here by name, so this module imports nothing of the kit.
"""

from collections.abc import Callable

PROBES: dict[str, Callable] = {}


def probe(func=None, *, streams: bool = False):
    """Mark kit code that drives the learner's code: `func(module, *args)` returns plain data.

    The judge runs it twice: in the sandbox on the learner's module (ctx.learner.observe) and
    in its own process on the reference module. `streams` probes also get `progress=`."""

    def register(f):
        f.probe_name = f"{f.__module__.rsplit('.', 1)[-1]}.{f.__name__}"
        f.streams = streams
        PROBES[f.probe_name] = f
        return f

    return register(func) if func is not None else register
