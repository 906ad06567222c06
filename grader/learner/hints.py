"""`fastgroup hint STEP`: the next hint for a step, one at a time, remembered between calls."""

import json

from grader.core.errors import KitError
from grader.core.files import write_atomic
from grader.core.home import kit_home
from grader.core.steps import get_step


def all_hints(step: str) -> list[str]:
    """The step's hints, from the manifest (grader/core/steps.toml)."""
    return list(get_step(step).hints)


def first_hint(step: str) -> str | None:
    """The step's first hint, or None for a step that has none yet."""
    hints = get_step(step).hints
    return hints[0] if hints else None


def hints_or_say_none(step: str) -> list[str]:
    hints = all_hints(step)
    if not hints:
        raise KitError(f"step {step} has no hints yet: the chapter's section {get_step(step).section!r} may help")
    return hints


def next_hint(step: str) -> str:
    """The next hint not yet shown for `step` (the last one repeats once all are shown)."""
    hints = hints_or_say_none(step)
    seen_file = kit_home() / "hints-seen.json"
    try:
        seen = json.loads(seen_file.read_text())
    except (OSError, ValueError):
        seen = {}
    n = min(int(seen.get(step, 0)), len(hints) - 1)
    seen[step] = n + 1
    write_atomic(seen_file, json.dumps(seen))
    last = " (this was the last hint: the step's docstring and its section of the chapter say the rest)" \
        if n == len(hints) - 1 else ""
    return f"Hint {n + 1}/{len(hints)} for {step}: {hints[n]}{last}"


def shown_hints(step: str) -> list[str]:
    """Every hint of `step` shown so far (at least the first), numbered: `fastgroup hint STEP --all`."""
    hints = hints_or_say_none(step)
    try:
        seen = int(json.loads((kit_home() / "hints-seen.json").read_text()).get(step, 0))
    except (OSError, ValueError, AttributeError, TypeError):
        seen = 0
    count = min(max(seen, 1), len(hints))
    return [f"Hint {n}/{len(hints)} for {step}: {hints[n - 1]}" for n in range(1, count + 1)]
