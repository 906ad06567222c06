"""A check's time limit: what it counts, and what a check it stopped says.

The limit counts the CPU seconds of the learner's sandboxed processes (grader/core/cpu.py): a
busy machine slows code down but does not make it use more CPU, so correct code keeps its points
under load. A wall-clock backstop, BACKSTOP times the limit, stops code that blocks without
computing (a sleep, input(), a read that never returns). A check the backstop stops while its
code computed or waited for a core (a busy machine), or while the kit itself was working, was cut
short by the machine: it is "not graded" (never cached, never lowering a recorded result, graded
again on the board), never the learner's failure.
"""

from grader.engine.protocol import CheckResult, Verdict

BACKSTOP = 4.0  # the wall-clock backstop, in limits
BLOCKED_SHARE = 0.05  # below this share of the time computing or waiting for a core, the code was blocked
NOT_GRADED = "not graded: the machine was too busy to finish this check"


def over_cpu(limit: float, where: str) -> CheckResult:
    """The learner's code used up its CPU seconds."""
    return CheckResult(
        Verdict.FAILED,
        f"did not finish within its limit of {limit:.0f} s of computing (CPU time, which a busy machine does "
        f"not use up): an infinite loop, or far more work than the step needs?{where} Grading moved on.",
        transient=True,
        timed_out=True,
    )


def over_wall(limit: float, waited: float, used: float | None, active: float, where: str) -> CheckResult:
    """The backstop ran out after `waited` seconds: the learner's code used `used` CPU seconds
    (None: not measurable here, the limit was the wall clock); `active` counts those, the judge's
    own and the seconds both spent ready to run while other work had the cores."""
    if used is None:
        return CheckResult(Verdict.FAILED,
                           f"did not finish within {limit:.0f} s: an infinite loop, or far more work than the step "
                           f"needs?{where} Grading moved on.", transient=True, timed_out=True)
    if active < BLOCKED_SHARE * waited:
        return CheckResult(Verdict.FAILED,
                           f"waited {waited:.0f} s while computing for only {used:.1f} s: a sleep, input(), or a read "
                           f"that never returns?{where} Grading moved on.", transient=True, timed_out=True)
    return CheckResult(Verdict.NOT_GRADED,
                       f"{NOT_GRADED} ({waited:.0f} s went by, in which your code got {used:.0f} of its {limit:.0f} "
                       "CPU seconds): it was not graded; grade it again when the machine is quieter",
                       transient=True, timed_out=True)
