"""Lowering a process's CPU priority, so that a grade's longer lane gets the cores first.

`os.nice` alone is not enough on Linux: with autogroup scheduling (the default on desktops) the
kernel first shares the CPU between sessions, and a sandbox starts a session of its own, so its
nice value counts only against the processes of that session. A sandbox's session gets its
weight through /proc/self/autogroup. Raising either needs no privilege; where neither exists,
nothing happens.
"""

import contextlib
import os

ENV = "FASTGROUP_NICE"  # how a judge tells its sandboxed observer to lower its session too


def lower(nice: int) -> None:
    """Raise this process's nice value (its children inherit it)."""
    if nice > 0:
        with contextlib.suppress(OSError):
            os.nice(nice)


def lower_session(nice: int) -> None:
    """Raise the nice value of this process's session. Only for a process that started a session
    of its own (the sandbox): from the grading process's session it would slow the learner's
    shell and everything else started there."""
    if nice > 0:
        with contextlib.suppress(OSError), open("/proc/self/autogroup", "w") as group:
            group.write(str(nice))
