"""Running the real `fastgroup` command in a subprocess, as a member or organiser would."""

import os
import signal
import subprocess
import sys


def ctrl_c_as_in_a_terminal() -> None:
    """preexec_fn for a child that a test stops with SIGINT: a shell's background job (pytest run
    with `&`, say) starts with SIGINT ignored, and its children would inherit that."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def fastgroup(*args, env=None, timeout=120):
    """Run the installed CLI in a subprocess and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "grader.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def one_line_error(result) -> str:
    """The one 'error: ...' line of a command that exited 2 (and nothing else on stderr)."""
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]
