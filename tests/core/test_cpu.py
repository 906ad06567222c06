"""The CPU clock a check's limit reads: real processes, busy and sleeping, beside real hogs."""

import os
import subprocess
import sys
import time

import pytest

from grader.core import cpu

pytestmark = pytest.mark.skipif(not cpu.supported(), reason="no /proc here: the limits are wall-clock seconds")

BURN = ("import time\nt = time.process_time()\nwhile time.process_time() - t < {s}: pass\n"
        "import sys; sys.stdout.write('done'); sys.stdout.flush()\ntime.sleep(60)")


def child(code: str, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, **kw)


def test_the_clock_counts_the_descendants_cpu_not_the_time_they_slept():
    clock = cpu.TreeClock(os.getpid())
    burner, sleeper = child(BURN.format(s=0.6)), child("import time; time.sleep(60)")
    try:
        burner.stdout.read(4)  # it has burnt its 0.6 s
        used = clock.used()
        assert 0.55 <= used < 0.6 + 1.0, used  # its own 0.6 s, plus two interpreters' starts
        time.sleep(0.5)
        assert clock.used() - used < 0.1  # both sleep now: the clock stands still
    finally:
        for p in (burner, sleeper):
            p.kill()
            p.wait()
    assert clock.used() >= used  # a process that ended keeps what it used


def test_a_starved_process_waits_for_a_core_and_a_sleeping_one_does_not():
    """Pinned to one core beside three hogs, a busy process spends most of its time queued; a
    sleeping one neither computes nor queues: what tells a busy machine from code that blocked."""
    if not hasattr(os, "sched_setaffinity"):
        pytest.skip("no CPU affinity here")
    core = {sorted(os.sched_getaffinity(0))[0]}
    pin = lambda: os.sched_setaffinity(0, core)  # noqa: E731
    hogs = [child("while True: pass", preexec_fn=pin) for _ in range(3)]
    try:
        burner = child(BURN.format(s=0.5), preexec_fn=pin)
        burner.stdout.read(4)
        assert cpu.queued(burner.pid) > 0.5  # a quarter of the core: it waited longer than it computed
        burner.kill()
        burner.wait()
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    clock = cpu.TreeClock(os.getpid())
    sleeper = child("import time; time.sleep(60)")
    try:
        time.sleep(1.0)
        assert clock.used() + clock.queued() < 0.5
    finally:
        sleeper.kill()
        sleeper.wait()
