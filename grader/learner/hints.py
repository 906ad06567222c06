"""`fastgroup hint STEP`: the next hint for a step, one at a time, remembered between calls."""

import json
import tomllib

from grader.core.home import kit_home
from grader.core.steps import MANIFEST, get_step

HINTS = MANIFEST.with_name("hints.toml")  # beside the step manifest


def all_hints(step: str) -> list[str]:
    return tomllib.loads(HINTS.read_text())[step]["hints"]


def next_hint(step: str) -> str:
    """The next hint not yet shown for `step` (the last one repeats once all are shown)."""
    get_step(step)
    hints = all_hints(step)
    seen_file = kit_home() / "hints-seen.json"
    try:
        seen = json.loads(seen_file.read_text())
    except (OSError, ValueError):
        seen = {}
    n = min(int(seen.get(step, 0)), len(hints) - 1)
    seen[step] = n + 1
    seen_file.write_text(json.dumps(seen))
    return f"Hint {n + 1}/{len(hints)} for {step}: {hints[n]}"


def shown_hints(step: str) -> list[str]:
    """Every hint of `step` shown so far (at least the first), numbered: `fastgroup hint STEP --all`."""
    get_step(step)
    hints = all_hints(step)
    try:
        seen = int(json.loads((kit_home() / "hints-seen.json").read_text()).get(step, 0))
    except (OSError, ValueError, AttributeError, TypeError):
        seen = 0
    count = min(max(seen, 1), len(hints))
    return [f"Hint {n}/{len(hints)} for {step}: {hints[n - 1]}" for n in range(1, count + 1)]
