"""CPU seconds that a process's descendants have used: what a check's time limit counts.

On a busy laptop the same code takes longer by the clock but uses the same CPU time, so a limit in
CPU seconds measures the code, not the machine (contest judges do the same). Read from /proc on
Linux; elsewhere `TreeClock.used()` is None and the caller keeps the wall clock. The seconds a
process spent ready to run while others had the cores (`queued`, the scheduler's run delay) tell
code that was starved by a busy machine from code that blocked (a sleep) and wanted nothing.
"""

import contextlib
import os
from pathlib import Path

PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def supported() -> bool:
    return (PROC / "self" / "stat").exists()


def _stat(pid: int | str) -> tuple[int, float] | None:
    """(parent pid, CPU seconds of the process's own threads), or None if it is gone."""
    try:
        raw = (PROC / str(pid) / "stat").read_bytes()
    except OSError:
        return None
    fields = raw[raw.rfind(b")") + 2:].split()  # after "pid (name) ": the name may hold spaces
    try:
        return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS  # ppid; utime + stime
    except (IndexError, ValueError):
        return None


def own_seconds(pid: int) -> float:
    """The CPU seconds of one process (all its threads, not its children); 0 when it is gone."""
    found = _stat(pid)
    return found[1] if found else 0.0


def queued(pid: int) -> float:
    """Seconds the threads of `pid` spent ready to run, waiting for a core; 0 when not known."""
    total = 0
    with contextlib.suppress(OSError):
        for task in os.scandir(PROC / str(pid) / "task"):
            with contextlib.suppress(OSError, IndexError, ValueError):
                total += int((Path(task.path) / "schedstat").read_text().split()[1])
    return total / 1e9


def descendants(root: int) -> dict[int, float]:
    """Every live descendant of `root` (not `root` itself) with its CPU seconds, nearest first."""
    table = {}
    for entry in os.scandir(PROC):
        if entry.name.isdigit() and (found := _stat(entry.name)) is not None:
            table[int(entry.name)] = found
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    found, queue = {}, list(children.get(root, []))
    while queue:
        pid = queue.pop(0)
        found[pid] = table[pid][1]
        queue.extend(children.get(pid, []))
    return found


class TreeClock:
    """CPU seconds used by `root`'s descendants since the clock started: a process that ends keeps
    what it was last seen to use, one that starts counts from zero (a sandbox restarted mid-check)."""

    def __init__(self, root: int):
        self.root = root
        self.on = supported()
        self.start = descendants(root) if self.on else {}
        self.waits = self._waits()
        self.seen: dict[int, float] = {}

    def _waits(self) -> float:
        return sum(queued(pid) for pid in [self.root, *descendants(self.root)]) if self.on else 0.0

    def queued(self) -> float:
        """Seconds the root and its descendants waited for a core since the clock started (roughly:
        a process that ended takes its waits with it)."""
        return max(0.0, self._waits() - self.waits)

    def used(self) -> float | None:
        if not self.on:
            return None
        self.seen.update(descendants(self.root))
        return sum(max(0.0, cpu - self.start.get(pid, 0.0)) for pid, cpu in self.seen.items())


class Progress:
    """Whether a process that is starting (importing torch and fastai, building the data's view)
    still moves: CPU used, or waited for, by it or its descendants since the last look. A start
    is waited for while it moves, however busy the machine; one that stands still has failed."""

    MOVED_S = 0.05

    def __init__(self, pid: int):
        self.pid, self.clock = pid, TreeClock(pid)
        self.last = self._total()

    def _total(self) -> float:
        return own_seconds(self.pid) + (self.clock.used() or 0.0) + self.clock.queued()

    def moved(self) -> bool:
        """Since the last look; always False where /proc is missing (the caller's wait is the limit)."""
        if not self.clock.on:
            return False
        total = self._total()
        moved, self.last = total - self.last > self.MOVED_S, total
        return moved
