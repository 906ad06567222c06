"""Text that came from learner code, made safe to show anyone: control characters neutralised.

What a learner's code printed or raised reaches the learner's terminal, the organiser's agenda
and terminal, the page and its JSON. Escape sequences in it could retitle a terminal, clear a
screen or recolour what the kit says, and bidirectional overrides could reorder a line, so each
such character is shown as its escape (`\\x1b`) instead; newlines and tabs stay.
"""

import re

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def neutral(text: str) -> str:
    """`text` with every control character (but newline and tab) written as its escape."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape", "backslashreplace").decode("ascii"), text)
